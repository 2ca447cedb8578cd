//! Fleets: the layout (baseline inherited, per-tenant overrides, located errors in a tenant
//! folder), `--tenants` selection, concurrent runs with a section per tenant and the worst
//! exit code, and `sharedbox tenants` (all, or those a git diff touches, as a CI matrix).
//! Each test works on a copy of `examples/fleet` (three file-backend tenants: `contoso` and
//! `fabrikam` with changes, `northwind` without).

use std::path::Path;

use crate::common::{Run, run_in};

/// A copy of `examples/fleet` in a temporary folder, outside any git checkout.
fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::examples::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet"),
        dir.path(),
    );
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The section of `tenant` in a fleet's text report.
fn section<'a>(run: &'a Run, tenant: &str) -> &'a str {
    let start = run
        .stdout
        .find(&format!("=== tenant `{tenant}`"))
        .unwrap_or_else(|| panic!("no section for `{tenant}`: {}", run.stdout));
    let rest = &run.stdout[start + 3..];
    let end = rest
        .find("=== tenant `")
        .or_else(|| rest.find("Fleet "))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn every_tenant_inherits_the_baseline_and_a_tenant_overrides_it_field_by_field() {
    let dir = fleet();
    let plan = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    // Contoso: the baseline's Defaults (both copies) and its profile (`front-desk`: no POP).
    let contoso = section(&plan, "contoso");
    assert!(
        contoso.contains("sentItems.copyForSendAs       = false -> true"),
        "{contoso}"
    );
    assert!(
        contoso.contains("sentItems.copyForSendOnBehalf = false -> true"),
        "{contoso}"
    );
    assert!(
        contoso.contains("clients.pop                   = true -> false"),
        "{contoso}"
    );
    // Fabrikam's own Defaults keeps Send on Behalf copies off; the rest is inherited.
    let fabrikam = section(&plan, "fabrikam");
    assert!(
        fabrikam.contains("sentItems.copyForSendAs = false -> true"),
        "{fabrikam}"
    );
    assert!(!fabrikam.contains("copyForSendOnBehalf"), "{fabrikam}");
    assert!(fabrikam.contains("forwarding.to"), "{fabrikam}");
    assert!(section(&plan, "northwind").contains("No changes."));
}

#[test]
fn a_tenant_lint_level_overrides_the_fleets() {
    let dir = fleet();
    // A delegate whose Send on Behalf copy is off: SBX101, an error in the fleet's
    // `sharedbox.yaml`, a warning in Fabrikam's `connection.yaml`.
    let delegated = |domain: &str| {
        format!(
            "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: info@{domain}\nsendOnBehalf: [someone@{domain}]\nsentItems: {{copyForSendOnBehalf: false}}\n"
        )
    };
    write(
        dir.path(),
        "tenants/fabrikam/policies/info.yaml",
        &delegated("fabrikam.com"),
    );
    write(
        dir.path(),
        "tenants/northwind/policies/info.yaml",
        &delegated("northwind.com"),
    );
    let fabrikam = run_in(dir.path(), &["validate", "--tenants", "fabrikam"]);
    assert_eq!(fabrikam.code, 0, "{}", fabrikam.stderr);
    assert!(fabrikam.stderr.contains("SBX101"), "{}", fabrikam.stderr);
    let northwind = run_in(dir.path(), &["validate", "--tenants", "northwind"]);
    assert_eq!(northwind.code, 1, "{}", northwind.stderr);
    assert!(northwind.stderr.contains("SBX101"), "{}", northwind.stderr);
}

#[test]
fn a_mistake_in_a_tenant_folder_is_located_and_the_other_tenants_still_run() {
    let dir = fleet();
    write(
        dir.path(),
        "tenants/fabrikam/connection.yaml",
        "tenant:\n  backend: file\n  path: tenant.yaml\nstateDirectory: elsewhere/\n",
    );
    let one = run_in(dir.path(), &["plan", "--tenants", "fabrikam"]);
    assert_eq!(one.code, 1);
    assert!(
        one.stderr.contains("tenants/fabrikam/connection.yaml:4:1"),
        "{}",
        one.stderr
    );
    let all = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(all.code, 1, "the worst exit code is the failed tenant's");
    assert!(section(&all, "fabrikam").contains("failed"));
    assert!(section(&all, "contoso").contains("Plan: 0 to create, 3 to change"));
    assert!(section(&all, "northwind").contains("No changes."));
    assert!(
        all.stderr.contains("tenants/fabrikam/connection.yaml:4:1"),
        "{}",
        all.stderr
    );
}

#[test]
fn a_tenant_that_cannot_be_reached_is_reported_in_its_section_and_sets_the_exit_code() {
    let dir = fleet();
    std::fs::remove_file(dir.path().join("tenants/northwind/tenant.yaml")).unwrap();
    let plan = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    let northwind = section(&plan, "northwind");
    assert!(northwind.contains("failed"), "{northwind}");
    assert!(northwind.contains("error: "), "{northwind}");
    assert!(northwind.contains("tenant.yaml"), "{northwind}");
    for tenant in ["contoso", "fabrikam"] {
        assert!(
            section(&plan, tenant).contains("Plan: 0 to create, 3 to change, 0 to revoke."),
            "{tenant}"
        );
    }
    let summary = &plan.stdout[plan.stdout.find("Fleet plan, ").unwrap()..];
    assert!(
        summary.starts_with("Fleet plan, 3 tenants: 2 changes, 1 failed."),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("northwind") && l.contains("failed") && l.contains(" 1 ")),
        "{summary}"
    );
    // Without `--detailed-exitcode` changes are success; the failure still counts.
    let plain = run_in(dir.path(), &["plan", "--tenants", "contoso,fabrikam"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
}

#[test]
fn json_has_an_object_per_tenant_with_its_own_document() {
    let dir = fleet();
    let plan = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--format", "json"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(report["command"], "plan");
    let tenants = report["tenants"].as_object().unwrap();
    assert_eq!(
        tenants.keys().collect::<Vec<_>>(),
        ["contoso", "fabrikam", "northwind"]
    );
    assert_eq!(tenants["contoso"]["result"], "changes");
    assert_eq!(tenants["contoso"]["exit_code"], 2);
    assert_eq!(
        tenants["contoso"]["document"]["tenant"],
        "contoso.onmicrosoft.com"
    );
    assert_eq!(tenants["northwind"]["result"], "no changes");
}

#[test]
fn markdown_is_one_comment_with_a_summary_table_and_a_section_per_tenant() {
    let dir = fleet();
    let plan = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--format", "markdown"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let md = &plan.stdout;
    assert!(
        md.starts_with("### sharedbox plan: 3 tenants: 2 changes, 1 no changes\n"),
        "{md}"
    );
    assert!(md.contains("| `contoso` | changes | 2 |"), "{md}");
    assert!(md.contains("| `northwind` | no changes | 0 |"), "{md}");
    let sections: Vec<usize> = ["contoso", "fabrikam", "northwind"]
        .iter()
        .map(|t| md.find(&format!("#### tenant `{t}`")).expect("a section"))
        .collect();
    assert!(sections.is_sorted(), "sections in tenant order");
}

#[test]
fn tenants_are_selected_by_name_and_an_unknown_name_gets_a_suggestion() {
    let dir = fleet();
    let two = run_in(dir.path(), &["plan", "--tenants", "northwind", "contoso"]);
    assert_eq!(two.code, 0, "{}", two.stderr);
    assert!(two.stdout.contains("=== tenant `contoso`"));
    assert!(two.stdout.contains("=== tenant `northwind`"));
    assert!(!two.stdout.contains("fabrikam"));
    // One tenant: exactly the output of a project of one tenant, no sections.
    let one = run_in(dir.path(), &["plan", "--tenants", "contoso"]);
    assert!(
        one.stdout.starts_with("sharedbox will perform"),
        "{}",
        one.stdout
    );

    let unknown = run_in(dir.path(), &["plan", "--tenants", "contosso"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("there is no tenant `contosso` in the fleet"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("did you mean `contoso`?"),
        "{}",
        unknown.stderr
    );
    let none = run_in(dir.path(), &["plan"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("--tenants all"), "{}", none.stderr);
}

#[test]
fn several_tenants_are_applied_only_with_auto_approve() {
    let dir = fleet();
    let snapshot = dir.path().join("tenants/contoso/tenant.yaml");
    let before = std::fs::read_to_string(&snapshot).unwrap();
    let refused = run_in(dir.path(), &["apply", "--tenants", "all"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        before,
        std::fs::read_to_string(&snapshot).unwrap(),
        "nothing applied"
    );
    let applied = run_in(dir.path(), &["apply", "--tenants", "all", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let again = run_in(
        dir.path(),
        &["plan", "--tenants", "all", "--detailed-exitcode"],
    );
    assert_eq!(again.code, 0, "{}", again.stdout);
    // Each tenant's journal is in its own state folder.
    assert!(dir.path().join(".sharedbox/contoso/runs").is_dir());
    assert!(dir.path().join(".sharedbox/fabrikam/runs").is_dir());
}

/// Runs git in `dir` with a fixed identity, no user configuration, never above `dir`.
fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tenants_changed_lists_the_tenants_a_diff_touches_and_all_for_the_baseline() {
    let dir = fleet();
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    git(dir.path(), &["add", "--all"]);
    git(dir.path(), &["commit", "--quiet", "--message=the fleet"]);
    git(dir.path(), &["checkout", "--quiet", "-b", "change"]);

    let nothing = run_in(dir.path(), &["tenants", "--changed", "--format", "json"]);
    assert_eq!(nothing.code, 0, "{}", nothing.stderr);
    let listed: serde_json::Value = serde_json::from_str(&nothing.stdout).unwrap();
    assert_eq!(listed["tenants"], serde_json::json!([]));

    // A committed change in one tenant's policies, and an untracked file in another's.
    write(
        dir.path(),
        "tenants/contoso/policies/support.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@contoso.com\n",
    );
    git(
        dir.path(),
        &["commit", "--quiet", "--all", "--message=contoso"],
    );
    write(
        dir.path(),
        "tenants/northwind/policies/new.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: new@northwind.com\n",
    );
    let two = run_in(dir.path(), &["tenants", "--changed"]);
    assert_eq!(two.code, 0, "{}", two.stderr);
    assert_eq!(two.stdout, "contoso\nnorthwind\n");
    let matrix = run_in(
        dir.path(),
        &["tenants", "--changed", "--format", "github-matrix"],
    );
    let matrix: serde_json::Value = serde_json::from_str(&matrix.stdout).unwrap();
    assert_eq!(
        matrix,
        serde_json::json!({"include": [{"tenant": "contoso"}, {"tenant": "northwind"}]})
    );

    // The baseline is every tenant's.
    write(
        dir.path(),
        "baseline/defaults.yaml",
        "apiVersion: sharedbox/v1\nkind: Defaults\nforwarding: none\n",
    );
    let all = run_in(dir.path(), &["tenants", "--changed", "--base", "main"]);
    assert_eq!(
        all.stdout, "contoso\nfabrikam\nnorthwind\n",
        "{}",
        all.stderr
    );
    let azure = run_in(
        dir.path(),
        &["tenants", "--changed", "--format", "azure-matrix"],
    );
    let azure: serde_json::Value = serde_json::from_str(&azure.stdout).unwrap();
    assert_eq!(azure["fabrikam"], serde_json::json!({"tenant": "fabrikam"}));
}

#[test]
fn tenants_without_a_fleet_and_a_bad_fleet_are_clear_errors() {
    let single = crate::common::Project::new();
    let run = single.run(&["tenants"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("this project has one tenant"),
        "{}",
        run.stderr
    );

    let dir = fleet();
    write(
        dir.path(),
        "sharedbox.yaml",
        "fleet: {tenants: tenants/}\ntenant: {backend: file, path: x.yaml}\n",
    );
    let both = run_in(dir.path(), &["tenants"]);
    assert_eq!(both.code, 1);
    assert!(
        both.stderr.contains("has `fleet:` and `tenant:`"),
        "{}",
        both.stderr
    );
    std::fs::create_dir_all(dir.path().join("tenants/no-connection")).unwrap();
    write(dir.path(), "sharedbox.yaml", "fleet: {tenants: tenants/}\n");
    let missing = run_in(dir.path(), &["plan", "--tenants", "no-connection"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("has no `connection.yaml`"),
        "{}",
        missing.stderr
    );
}

/// A fleet's remote state keeps each tenant's runs and lock under `<prefix>/<tenant>`; a
/// tenant whose connection sets its own `stateDir` keeps its runs there instead.
#[test]
fn a_fleets_remote_state_gives_each_tenant_its_own_prefix() {
    let dir = fleet();
    let root = std::fs::read_to_string(dir.path().join("sharedbox.yaml")).unwrap();
    let root = root.replace("stateDir: .sharedbox/\n", "")
        + "state:\n  backend: azure-blob\n  account: devstoreaccount1\n  container: sharedbox\n  prefix: fleet/\n  endpoint: http://127.0.0.1:9/devstoreaccount1\n";
    write(dir.path(), "sharedbox.yaml", &root);
    // Nothing listens on port 9: the error names the store the tenant's runs are kept in.
    let sas = [("SHAREDBOX_STATE_SAS_TOKEN", "sv=2020-08-04&sig=test")];
    for tenant in ["contoso", "fabrikam"] {
        let runs = crate::common::run_with_env(dir.path(), &["runs", "--tenants", tenant], &sas);
        assert_eq!(runs.code, 1, "{}", runs.stderr);
        assert!(
            runs.stderr.contains(&format!(
                "http://127.0.0.1:9/devstoreaccount1/sharedbox/fleet/{tenant}/runs"
            )),
            "{}",
            runs.stderr
        );
        assert!(!runs.stderr.contains("sig=test"), "{}", runs.stderr);
    }
    // Northwind keeps its own local state: its runs list (empty) without the store.
    let connection = dir.path().join("tenants/northwind/connection.yaml");
    let text = std::fs::read_to_string(&connection).unwrap();
    std::fs::write(&connection, format!("{text}\nstateDir: .state/\n")).unwrap();
    let runs = crate::common::run_with_env(dir.path(), &["runs", "--tenants", "northwind"], &sas);
    assert_eq!(runs.code, 0, "{}", runs.stderr);
    assert!(!runs.stderr.contains("127.0.0.1:9"), "{}", runs.stderr);
}

/// Hostile fleet content: a tenant folder that is a symbolic link (it could name another
/// repository's tenant) is refused, and a FIFO as a tenant's connection is refused without
/// blocking; neither plans anything.
#[cfg(unix)]
#[test]
fn a_linked_tenant_folder_and_a_fifo_connection_are_refused() {
    let dir = fleet();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("tenants/contoso"),
        elsewhere.path().join("x"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("x"),
        dir.path().join("tenants/linked"),
    )
    .unwrap();
    let plan = run_in(dir.path(), &["plan", "--tenants", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("is a symbolic link"),
        "{}",
        plan.stderr
    );
    std::fs::remove_file(dir.path().join("tenants/linked")).unwrap();

    let connection = dir.path().join("tenants/northwind/connection.yaml");
    std::fs::remove_file(&connection).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&connection)
        .status()
        .unwrap();
    assert!(status.success());
    let plan = run_in(dir.path(), &["plan", "--tenants", "northwind"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(plan.stderr.contains("connection"), "{}", plan.stderr);
}
