//! `sharedbox validate` and policy errors: every strict-YAML and semantic error names the
//! file, line and column, explains itself, and nothing is written to the tenant.

use crate::common::Project;

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// Runs `validate` and `plan` on a project whose policies are broken and checks that both
/// fail with the message at `file:line:col`, and that the tenant file is untouched.
fn assert_policy_error(project: &Project, location: &str, message: &str) {
    let before = project.tenant_text();
    for command in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let run = project.run(command);
        assert_eq!(
            run.code, 1,
            "{command:?} exit code; stderr:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(location),
            "{command:?}: expected location `{location}` in:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(message),
            "{command:?}: expected `{message}` in:\n{}",
            run.stderr
        );
        assert!(
            run.stdout.is_empty(),
            "{command:?} printed data on error:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        project.tenant_text(),
        before,
        "the tenant file was written on error"
    );
}

#[test]
fn valid_policies_pass() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com]\n"),
    );
    project.policy(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Anna may send as the mailbox but its Send As copy is not managed: a lint warning.
    assert!(run.stderr.contains("SBX101"), "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "The policies are valid: 1 shared mailbox, tenant settings in 2 files; 1 finding (1 warning)."
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn unknown_field() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nfullAcces: []\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:4:1",
        "unknown field `fullAcces`",
    );
}

#[test]
fn unknown_nested_field() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients:\n  owa: true\n  imapp: false\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:6:3",
        "unknown field `imapp`",
    );
}

#[test]
fn duplicate_key() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: support@fabrikam.com\nsendAs: []\nsendAs: [anna@fabrikam.com]\n"
        ),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:5:1",
        "duplicate key `sendAs`",
    );
}

#[test]
fn yaml_1_1_booleans_are_rejected() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nhiddenFromAddressLists: yes\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:4:25",
        "`yes` is not a boolean",
    );
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients:\n  imap: off\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:5:9",
        "`off` is not a boolean",
    );
}

#[test]
fn mailbox_declared_in_two_files() {
    let project = Project::new();
    project.policy(
        "a.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\n"),
    );
    project.policy(
        "team/b.yaml",
        &format!("# second\n{HEADER}mailbox: Support@Fabrikam.com\n"),
    );
    assert_policy_error(
        &project,
        "policies/team/b.yaml:4:10",
        "mailbox `support@fabrikam.com` is declared twice",
    );
    let run = project.run(&["validate"]);
    assert!(
        run.stderr
            .contains("the first declaration is at policies/a.yaml:3:10"),
        "{}",
        run.stderr
    );
}

#[test]
fn two_defaults_documents() {
    let project = Project::new();
    project.policy("defaults.yaml", "apiVersion: sharedbox/v1\nkind: Defaults\nhiddenFromAddressLists: false\n---\napiVersion: sharedbox/v1\nkind: Defaults\nclients: {imap: false}\n");
    assert_policy_error(
        &project,
        "policies/defaults.yaml:6:7",
        "a second `Defaults` document",
    );
}

#[test]
fn malformed_addresses() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support-at-fabrikam.com\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:3:10",
        "`support-at-fabrikam.com` is not an email address",
    );
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs:\n  - anna@fabrikam.com\n  - \"Anna Berg\"\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:6:5",
        "`Anna Berg` is not an email address, UPN or object id",
    );
}

#[test]
fn moderation_enabled_without_moderators() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nmoderation:\n  enabled: true\n  moderators: []\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:6:15",
        "moderation of `support@fabrikam.com` is enabled with no moderators",
    );
}

#[test]
fn unknown_access_level() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItemsReaders:\n  - principal: anna@fabrikam.com\n    access: Reader\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:6:13",
        "unknown value `Reader` for `access`, expected one of `Owner`",
    );
}

#[test]
fn unknown_smtp_auth_value() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients:\n  smtpAuth: false\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:5:13",
        "expected one of `enabled`, `disabled`, `inherit`",
    );
}

#[test]
fn wrong_api_version_and_kind() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v2\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n",
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:1:13",
        "unsupported `apiVersion` `sharedbox/v2`",
    );
    let project = Project::new();
    project.policy(
        "support.yaml",
        "apiVersion: sharedbox/v1\nkind: Mailbox\nmailbox: support@fabrikam.com\n",
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:2:7",
        "unknown value `Mailbox`",
    );
}

#[test]
fn field_of_another_kind() {
    let project = Project::new();
    project.policy(
        "defaults.yaml",
        "apiVersion: sharedbox/v1\nkind: Defaults\nmailbox: support@fabrikam.com\n",
    );
    assert_policy_error(
        &project,
        "policies/defaults.yaml:3:10",
        "`mailbox` is not allowed in a `Defaults` document",
    );
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendFromAliasEnabled: true\n"),
    );
    assert_policy_error(
        &project,
        "policies/support.yaml:4:23",
        "`sendFromAliasEnabled` is not allowed in a `SharedMailbox` document",
    );
}

#[test]
fn missing_mailbox_key() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}displayName: Support\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:2:7",
        "a `SharedMailbox` document needs `mailbox`",
    );
}

#[test]
fn ensure_absent_with_prevent_destroy() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nlifecycle:\n  preventDestroy: true\n  ensure: absent\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:6:11",
        "`support@fabrikam.com` has `ensure: absent` and `preventDestroy: true`",
    );
}

#[test]
fn principal_listed_twice() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com, ANNA@fabrikam.com]\n"));
    assert_policy_error(
        &project,
        "policies/support.yaml:4:29",
        "`ANNA@fabrikam.com` is listed twice",
    );
}

#[test]
fn yaml_syntax_error() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com\n"),
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("policies/support.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let project = Project::new();
    project.policy(
        "a.yaml",
        &format!("{HEADER}mailbox: a@fabrikam.com\nfoo: 1\n"),
    );
    project.policy(
        "b.yaml",
        &format!("{HEADER}mailbox: b@fabrikam.com\nhiddenFromAddressLists: no\n"),
    );
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("policies/a.yaml:4:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("policies/b.yaml:4:25"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: 2 errors in the policies under `policies/`"),
        "{}",
        run.stderr
    );
}

#[test]
fn lint_levels_in_the_config_are_checked_like_those_of_a_policy() {
    let project = Project::new();
    let config = |lints: &str| {
        std::fs::write(
            project.path().join("sharedbox.yaml"),
            format!("policies: policies/\ntenant: {{backend: file, path: tenant.yaml}}\nlints: {lints}\n"),
        )
        .unwrap();
        project.run(&["validate"])
    };
    let unknown = config("{SBX999: off}");
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("unknown lint `SBX999`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("sharedbox.yaml:3:17"),
        "{}",
        unknown.stderr
    );
    let twice = config("{SBX105: off, send-on-behalf-duplicates: error}");
    assert_eq!(twice.code, 1);
    assert!(
        twice.stderr.contains("sets `SBX105` twice"),
        "{}",
        twice.stderr
    );
    let level = config("{SBX105: sometimes}");
    assert_eq!(level.code, 1);
    assert!(
        level.stderr.contains("sharedbox.yaml:3:17"),
        "{}",
        level.stderr
    );
    assert_eq!(config("{SBX105: info}").code, 0);
}

#[test]
fn config_errors_are_located() {
    let project = Project::new();
    std::fs::write(
        project.path().join("sharedbox.yaml"),
        "policies: policies/\ntennant: {backend: file, path: tenant.yaml}\n",
    )
    .unwrap();
    let run = project.run(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("sharedbox.yaml:2:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `tennant`"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_config_gives_a_hint() {
    let project = Project::new();
    std::fs::remove_file(project.path().join("sharedbox.yaml")).unwrap();
    let run = project.run(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("no `sharedbox.yaml` in the current directory"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/sharedbox.schema.json"
    ))
    .expect("policies/sharedbox.schema.json is committed");
    let current = sharedbox_policy::schema_json();
    assert!(
        committed == current,
        "policies/sharedbox.schema.json is stale; regenerate it with `cargo run -- schema > policies/sharedbox.schema.json`"
    );
    let project = Project::new();
    let run = project.run(&["schema"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, current);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let kinds: Vec<&str> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["SharedMailbox", "TenantSettings", "Defaults", "Profile"]
    );
    let mailbox = &schema["oneOf"][0]["properties"];
    for field in [
        "mailbox",
        "displayName",
        "hiddenFromAddressLists",
        "sentItems",
        "sendAs",
        "sendOnBehalf",
        "fullAccess",
        "sentItemsReaders",
        "clients",
        "moderation",
        "lifecycle",
    ] {
        assert!(mailbox.get(field).is_some(), "schema lacks `{field}`");
    }
}

#[test]
fn a_lint_on_many_mailboxes_is_shown_five_times_then_counted() {
    let project = Project::new();
    for n in 0..8 {
        project.policy(
            &format!("m{n}.yaml"),
            &format!("{HEADER}mailbox: team{n}@fabrikam.com\nsendAs: [anna@fabrikam.com]\n"),
        );
    }
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("sent-copy-missing").count(),
        5 + 1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "warning[SBX101]: 3 more findings of this kind (sent-copy-missing) not shown"
        ),
        "{}",
        run.stderr
    );
    let json = project.run(&["validate", "--format", "json"]);
    assert_eq!(
        json.stdout.matches("\"SBX101\"").count(),
        8,
        "{}",
        json.stdout
    );
}
