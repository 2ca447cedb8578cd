//! Policy-loading messages a new user understands: every class of YAML mistake (syntax, wrong
//! type, unknown field or value, in each document kind and in `sharedbox.yaml`) is reported
//! at the same file:line:column in text and JSON output, says what is wrong in the user's
//! terms, and files that are not read are named once.

use crate::common::{Project, Run};

const MAILBOX: &str =
    "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: support@fabrikam.com\n";

/// One broken policy file and what its diagnostic must say.
struct Case {
    name: &'static str,
    text: String,
    /// 1-based line and column of the diagnostic.
    at: (u32, u32),
    code: &'static str,
    /// Part of the message.
    message: &'static str,
    /// Part of the hint.
    hint: &'static str,
    /// Text that must appear in neither message nor hint.
    absent: &'static [&'static str],
}

fn mailbox(name: &'static str, body: &str, at: (u32, u32), code: &'static str) -> Case {
    Case {
        name,
        text: format!("{MAILBOX}{body}"),
        at,
        code,
        message: "",
        hint: "",
        absent: &[],
    }
}

impl Case {
    fn says(mut self, message: &'static str, hint: &'static str) -> Case {
        self.message = message;
        self.hint = hint;
        self
    }

    fn never(mut self, absent: &'static [&'static str]) -> Case {
        self.absent = absent;
        self
    }
}

/// Every class of mistake, one file each.
fn cases() -> Vec<Case> {
    vec![
        // Syntax errors.
        mailbox(
            "unclosed-flow-sequence",
            "moderation:\n  moderators: [nina@fabrikam.com, paul@fabrikam.com\n  enabled: true\n",
            (5, 15),
            "policy::syntax",
        )
        .says(
            "the list opened with `[` here is never closed",
            "add the closing `]`; the parser stopped at line 6",
        ),
        mailbox(
            "deeper-indented-field",
            "moderation:\n  enabled: true\n    moderators: [nina@fabrikam.com]\n",
            (5, 12),
            "policy::indentation",
        )
        .says(
            "the value of `enabled` runs on into the next line: `moderators` is indented deeper",
            "start `moderators` in the same column as `enabled`",
        ),
        mailbox("tab", "moderation:\n\tenabled: true\n", (5, 2), "policy::syntax")
            .says("tabs", "indent with spaces"),
        mailbox(
            "duplicate-key",
            "sendAs: []\nsendAs: [anna@fabrikam.com]\n",
            (5, 1),
            "policy::duplicate-key",
        )
        .says("duplicate key `sendAs`", "remove one of them"),
        mailbox(
            "unterminated-quote",
            "displayName: \"Support\nhiddenFromAddressLists: true\n",
            (4, 14),
            "policy::syntax",
        )
        .says(
            "the quoted value opened with `\"` here is never closed",
            "add the closing `\"`",
        ),
        Case {
            name: "error-in-second-document",
            text: format!(
                "{MAILBOX}---\napiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: sales@fabrikam.com\nhiddenFromAddressLists: maybe\n"
            ),
            at: (8, 25),
            code: "policy::invalid-boolean",
            message: "`maybe` is not a boolean",
            hint: "write `true` or `false`",
            absent: &[],
        },
        // Valid YAML of the wrong type: never "must be valid YAML".
        mailbox(
            "list-where-flag",
            "hiddenFromAddressLists: [true]\n",
            (4, 25),
            "policy::invalid-type",
        )
        .says(
            "`hiddenFromAddressLists` must be `true` or `false`, found a list",
            "write `true` or `false`",
        ),
        mailbox(
            "list-where-mapping",
            "sentItems:\n  - copyForSendAs\n",
            (5, 3),
            "policy::invalid-type",
        )
        .says(
            "`sentItems` must be a mapping, found a list",
            "it takes `copyForSendAs`, `copyForSendOnBehalf`, `copyForSmtpSubmission`",
        ),
        mailbox(
            "mapping-where-list",
            "sendAs:\n  principal: anna@fabrikam.com\n",
            (5, 3),
            "policy::invalid-type",
        )
        .says(
            "`sendAs` must be a list of text, found a mapping",
            "write a list: `sendAs: [first, second]`",
        ),
        mailbox(
            "number-where-list",
            "sendAs: 5\n",
            (4, 9),
            "policy::invalid-type",
        )
        .says("`sendAs` must be a list of text, found the number `5`", "`[]` for none"),
        mailbox(
            "text-where-entry",
            "fullAccess: [anna@fabrikam.com]\n",
            (4, 14),
            "policy::invalid-type",
        )
        .says(
            "each entry of `fullAccess` must be a mapping, found `anna@fabrikam.com`",
            "e.g. `- principal: …`",
        ),
        mailbox(
            "text-where-mapping",
            "clients: none\n",
            (4, 10),
            "policy::invalid-type",
        )
        .says("`clients` must be a mapping, found `none`", "`owa`"),
        mailbox(
            "unknown-value",
            "sentItemsReaders:\n  - principal: anna@fabrikam.com\n    access: Reviwer\n",
            (6, 13),
            "policy::invalid-value",
        )
        .says(
            "unknown value `Reviwer` for `access`, expected one of `Owner`",
            "case-sensitive",
        ),
        mailbox(
            "unknown-value-case",
            "clients:\n  smtpAuth: Disabled\n",
            (5, 13),
            "policy::invalid-value",
        )
        .says("did you mean `disabled`?", "case-sensitive"),
        Case {
            name: "unknown-kind",
            text: "apiVersion: sharedbox/v1\nkind: SharedMailBox\nmailbox: a@fabrikam.com\n"
                .to_owned(),
            at: (2, 7),
            code: "policy::invalid-value",
            message: "did you mean `SharedMailbox`?",
            hint: "",
            absent: &[],
        },
        Case {
            name: "missing-kind",
            text: "apiVersion: sharedbox/v1\nmailbox: a@fabrikam.com\n".to_owned(),
            at: (2, 1),
            code: "policy::missing-field",
            message: "missing field `kind`",
            hint: "`kind:` (`SharedMailbox`, `TenantSettings`, `Defaults` or `Profile`)",
            absent: &[],
        },
        // Unknown fields: the fields of that kind or mapping only, and the closest.
        mailbox(
            "unknown-top-level-field",
            "sendAS: [anna@fabrikam.com]\n",
            (4, 1),
            "policy::unknown-field",
        )
        .says(
            "unknown field `sendAS` in a `SharedMailbox` document; did you mean `sendAs`?",
            "a `SharedMailbox` document takes `apiVersion`, `kind`, `mailbox`, `profile`",
        )
        .never(&["servicePrincipals", "sendFromAliasEnabled", "description"]),
        mailbox(
            "unknown-nested-field",
            "sentItems:\n  copyForSendAS: true\n",
            (5, 3),
            "policy::unknown-field",
        )
        .says(
            "unknown field `copyForSendAS` in `sentItems`; did you mean `copyForSendAs`?",
            "`sentItems` takes `copyForSendAs`, `copyForSendOnBehalf`, `copyForSmtpSubmission`",
        )
        .never(&["`mailbox`"]),
        mailbox(
            "unknown-field-in-list-entry",
            "fullAccess:\n  - principal: anna@fabrikam.com\n    automapping: false\n",
            (6, 5),
            "policy::unknown-field",
        )
        .says(
            "unknown field `automapping` in an entry of `fullAccess`; did you mean `autoMapping`?",
            "an entry of `fullAccess` takes `principal`, `autoMapping`",
        ),
        Case {
            name: "unknown-field-tenant-settings",
            text: "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnable: true\n"
                .to_owned(),
            at: (3, 1),
            code: "policy::unknown-field",
            message: "unknown field `sendFromAliasEnable` in a `TenantSettings` document; did you mean `sendFromAliasEnabled`?",
            hint: "a `TenantSettings` document takes `apiVersion`, `kind`, `sendFromAliasEnabled`, `smtpClientAuthenticationDisabled`, `servicePrincipals`",
            absent: &["`mailbox`", "`sendAs`"],
        },
        Case {
            name: "unknown-field-of-another-kind",
            text: format!("{MAILBOX}sendFromAliasEnable: true\n"),
            at: (4, 1),
            code: "policy::unknown-field",
            message: "unknown field `sendFromAliasEnable` in a `SharedMailbox` document",
            hint: "`sendFromAliasEnabled` belongs in `TenantSettings` documents",
            absent: &["did you mean"],
        },
        Case {
            name: "unknown-field-defaults",
            text: "apiVersion: sharedbox/v1\nkind: Defaults\nclients:\n  owa: true\n  imapp: false\n"
                .to_owned(),
            at: (5, 3),
            code: "policy::unknown-field",
            message: "unknown field `imapp` in `clients`; did you mean `imap`?",
            hint: "`clients` takes",
            absent: &[],
        },
        Case {
            name: "unknown-field-profile",
            text: "apiVersion: sharedbox/v1\nkind: Profile\nname: front-desk\ndescripton: the front desk\n"
                .to_owned(),
            at: (4, 1),
            code: "policy::unknown-field",
            message: "unknown field `descripton` in a `Profile` document; did you mean `description`?",
            hint: "a `Profile` document takes `apiVersion`, `kind`, `name`",
            absent: &["`mailbox`", "`displayName`"],
        },
    ]
}

/// Text with miette's wrapping undone: every run of whitespace and `│` one space.
fn unwrapped(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The diagnostics of `validate --format json`.
fn json_diagnostics(run: &Run) -> Vec<serde_json::Value> {
    let document: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout));
    document["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn each_class_of_mistake_is_located_and_explained_in_text_and_json() {
    let mut text_transcript = String::new();
    let mut json_transcript = String::new();
    for case in cases() {
        let project = Project::new();
        let file = format!("{}.yaml", case.name);
        project.policy(&file, &case.text);
        let name = case.name;
        let location = format!("policies/{file}:{}:{}", case.at.0, case.at.1);

        let text = project.run(&["validate"]);
        assert_eq!(text.code, 1, "{name}: {}", text.stderr);
        assert!(
            text.stderr.contains(&format!("[{location}]")),
            "{name}: expected `{location}` in the text report:\n{}",
            text.stderr
        );
        let shown = unwrapped(&text.stderr);
        for part in [case.code, case.message, case.hint] {
            assert!(
                shown.contains(&unwrapped(part)),
                "{name}: expected `{part}` in:\n{}",
                text.stderr
            );
        }

        let json = project.run(&["validate", "--format", "json"]);
        assert_eq!(json.code, 1, "{name}: {}", json.stderr);
        let diagnostics = json_diagnostics(&json);
        assert_eq!(diagnostics.len(), 1, "{name}: {diagnostics:#?}");
        let d = &diagnostics[0];
        assert_eq!(d["file"], format!("policies/{file}"), "{name}");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(u64::from(case.at.0)), Some(u64::from(case.at.1))),
            "{name}: the JSON location differs from the text's: {d:#}"
        );
        assert_eq!(d["code"], case.code, "{name}");
        let message = d["message"].as_str().unwrap_or_default();
        let hint = d["hint"].as_str().unwrap_or_default();
        assert!(message.contains(case.message), "{name}: {message}");
        assert!(hint.contains(case.hint), "{name}: {hint}");
        if case.code != "policy::syntax" {
            assert!(
                !hint.contains("valid YAML") && !message.contains("valid YAML"),
                "{name}: valid YAML of the wrong shape is not a syntax error: {message} / {hint}"
            );
        }
        for absent in case.absent {
            assert!(
                !message.contains(absent) && !hint.contains(absent),
                "{name}: `{absent}` in {message} / {hint}"
            );
        }

        text_transcript.push_str(&format!("=== {name}\n{}\n", text.stderr.trim_end()));
        json_transcript.push_str(&format!(
            "=== {name}\n{}:{}:{} {}\n  message: {message}\n  hint: {hint}\n",
            d["file"].as_str().unwrap_or_default(),
            d["line"],
            d["column"],
            d["code"].as_str().unwrap_or_default(),
        ));
    }
    insta::assert_snapshot!("policy_messages_text", text_transcript);
    insta::assert_snapshot!("policy_messages_json", json_transcript);
}

#[test]
fn valid_yaml_that_is_empty_or_types_loosely_is_accepted() {
    let project = Project::new();
    // An empty file and one of comments only declare nothing.
    project.policy("empty.yaml", "");
    project.policy("comments.yaml", "# to do: the sales mailbox\n");
    // A number is text where text is expected.
    project.policy("support.yaml", &format!("{MAILBOX}displayName: 42\n"));
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("The policies are valid: 1 shared mailbox, no tenant settings in 3 files"),
        "{}",
        run.stdout
    );
}

#[test]
fn mistakes_in_sharedbox_yaml_are_located_and_explained() {
    let cases = [
        (
            "policy: policies/\ntenant: {backend: file, path: tenant.yaml}\n",
            (1, 1),
            "unknown field `policy` in `sharedbox.yaml`; did you mean `policies`?",
            "`sharedbox.yaml` takes `policies`, `tenant`, `stateDir`, `state`, `lints`",
        ),
        (
            "policies: policies/\ntenant:\n  backend: file\n  pth: tenant.yaml\n",
            (4, 3),
            "unknown field `pth` in `tenant`; did you mean `path`?",
            "`tenant` takes `backend`, `path`",
        ),
        (
            "policies: policies/\ntenant: {backend: files, path: tenant.yaml}\n",
            (2, 19),
            "unknown value `files` for `backend`, expected one of `file`, `exchange-online`; did you mean `file`?",
            "case-sensitive",
        ),
        (
            "policies: policies/\ntenant:\n  - backend: file\n",
            (3, 3),
            "`tenant` must be a mapping, found a list",
            "indented below `tenant:`",
        ),
        (
            "policies: policies/\nstateDir: \"state\ntenant: {backend: file, path: tenant.yaml}\n",
            (2, 11),
            "the quoted value opened with `\"` here is never closed",
            "add the closing `\"`",
        ),
    ];
    for (config, (line, column), message, hint) in cases {
        let project = Project::new();
        std::fs::write(project.path().join("sharedbox.yaml"), config).unwrap();
        let text = project.run(&["validate"]);
        assert_eq!(text.code, 1, "{config}: {}", text.stderr);
        assert!(
            text.stderr
                .contains(&format!("[sharedbox.yaml:{line}:{column}]")),
            "{config}: {}",
            text.stderr
        );
        let shown = unwrapped(&text.stderr);
        assert!(
            shown.contains(&unwrapped(message)),
            "{config}: {}",
            text.stderr
        );
        assert!(
            shown.contains(&unwrapped(hint)),
            "{config}: {}",
            text.stderr
        );
        // In the JSON document of `validate --format json`, the same place and words.
        let document = project.run(&["validate", "--format", "json"]);
        assert_eq!(document.code, 1, "{config}: {}", document.stderr);
        let diagnostics = json_diagnostics(&document);
        assert_eq!(diagnostics.len(), 1, "{config}: {}", document.stdout);
        assert_eq!(diagnostics[0]["file"], "sharedbox.yaml");
        assert_eq!(
            (
                diagnostics[0]["line"].as_u64(),
                diagnostics[0]["column"].as_u64()
            ),
            (Some(line), Some(column)),
            "{config}: {}",
            document.stdout
        );
        assert!(
            document.stdout.contains("\"valid\": false"),
            "{}",
            document.stdout
        );
        // In JSON lines, the same place and words.
        let json = project.run(&["validate", "--json-lines"]);
        assert_eq!(json.code, 1);
        let event: serde_json::Value = json
            .stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["type"] == "diagnostic")
            .unwrap_or_else(|| panic!("{config}: no diagnostic event in:\n{}", json.stderr));
        assert_eq!(event["file"], "sharedbox.yaml");
        assert_eq!(
            (event["line"].as_u64(), event["column"].as_u64()),
            (Some(line), Some(column)),
            "{config}: {event:#}"
        );
        assert!(
            event["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message),
            "{event:#}"
        );
    }
}

#[test]
fn files_that_are_not_read_are_named_once() {
    let project = Project::new();
    project.policy("support.yaml", MAILBOX);
    // An upper-case extension is read: that is what whoever named the file meant.
    project.policy(
        "Info.YAML",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: info@fabrikam.com\n",
    );
    project.policy(".draft.yaml", "not: [even, valid\n");
    project.policy("support.yaml~", "not: [even, valid\n");
    project.policy("sales.yml.bak", "not: [even, valid\n");
    project.policy("README.md", "# policies\n");
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("The policies are valid: 2 shared mailboxes, no tenant settings in 2 files"),
        "{}",
        run.stdout
    );
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("not read"))
        .collect();
    assert_eq!(
        notes,
        [
            "note: not read from `policies/`: `.draft.yaml`, `sales.yml.bak`, `support.yaml~` (hidden files and names not ending in `.yaml` or `.yml` are skipped)"
        ],
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("README"), "{}", run.stderr);

    // `plan` says it too, and with `--json-lines` it is one `note` event.
    let plan = project.run(&["plan", "--json-lines"]);
    let notes: Vec<serde_json::Value> = plan
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| {
            e["type"] == "note"
                && e["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("not read")
        })
        .collect();
    assert_eq!(notes.len(), 1, "{}", plan.stderr);

    // No such files, no note.
    for name in [".draft.yaml", "support.yaml~", "sales.yml.bak"] {
        std::fs::remove_file(project.path().join("policies").join(name)).unwrap();
    }
    let run = project.run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("not read"), "{}", run.stderr);
}
