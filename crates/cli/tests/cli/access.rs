//! `sharedbox access` on the demo tenant (nested groups with a cycle, a dynamic group, a
//! deleted member, a guest, an external contact, a disabled account, a service principal, an
//! unmanaged mailbox whose account can sign in): each format, the expansion and its paths,
//! the reverse lookup, the flags, SBX104 through a group, and the report over HTTP through
//! the simulator.

use crate::common::{self, exo};

use sharedbox_exo_sim::{SimConfig, SimServer};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The demo tenant with no policies: `access` needs none.
fn demo_tenant() -> common::Project {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    common::Project::with_tenant(
        &std::fs::read_to_string(root.join("examples/contoso/tenant.yaml")).unwrap(),
    )
}

/// The entries of `mailbox` in a JSON report as `(right, principal, path, flags)`.
fn entries(report: &serde_json::Value, mailbox: &str) -> Vec<(String, String, String, String)> {
    let m = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == mailbox)
        .unwrap_or_else(|| panic!("{mailbox} not reported"));
    m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let right = match e["right"]["right"].as_str().unwrap() {
                "folder" => format!(
                    "{}:{}",
                    e["right"]["folderType"].as_str().unwrap(),
                    e["right"]["accessRights"][0].as_str().unwrap()
                ),
                other => other.to_owned(),
            };
            let via: Vec<&str> = e["via"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["name"].as_str().unwrap())
                .collect();
            let flags: Vec<&str> = e["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            (
                right,
                e["principal"]["name"].as_str().unwrap().to_owned(),
                via.join(" -> "),
                flags.join(","),
            )
        })
        .collect()
}

fn entry(right: &str, who: &str, via: &str, flags: &str) -> (String, String, String, String) {
    (right.into(), who.into(), via.into(), flags.into())
}

#[test]
fn the_demo_report_in_text_markdown_and_csv() {
    let project = demo_tenant();
    for (format, name) in [
        ("text", "access_demo_text"),
        ("markdown", "access_demo_markdown"),
        ("csv", "access_demo_csv"),
    ] {
        let run = project.run(&["access", "--format", format]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        insta::assert_snapshot!(name, run.stdout);
    }
    // One CSV row per entry, each with the twelve columns.
    let csv = project.run(&["access", "--format", "csv"]).stdout;
    let report = json(&project.run(&["access", "--format", "json"]).stdout);
    assert_eq!(
        csv.lines().count() - 1,
        report["summary"]["entries"].as_u64().unwrap() as usize
    );
    assert!(csv.ends_with("\r\n"));
}

#[test]
fn the_json_report_is_described_by_its_schema() {
    let project = demo_tenant();
    let run = project.run(&["access", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run.stdout);
    let schema = json(&project.run(&["schema", "access"]).stdout);
    assert_eq!(report["formatVersion"], 1);
    let described: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    for key in report.as_object().unwrap().keys() {
        assert!(described.contains(&key), "`{key}` is not in the schema");
    }
    for required in schema["required"].as_array().unwrap() {
        assert!(
            report.get(required.as_str().unwrap()).is_some(),
            "{required}"
        );
    }
    // Every flag and right the report writes is one the schema names.
    let text = serde_json::to_string(&schema).unwrap();
    for flag in report["summary"]["flags"].as_object().unwrap().keys() {
        assert!(text.contains(&format!("\"{flag}\"")), "{flag}");
    }
    for right in ["fullAccess", "sendAs", "sendOnBehalf", "folder"] {
        assert!(text.contains(&format!("\"{right}\"")), "{right}");
    }
    assert_eq!(report["groupsExpanded"], true);
    assert_eq!(
        report["summary"]["mailboxes"], 11,
        "managed and unmanaged alike"
    );
}

#[test]
fn nested_cyclic_deleted_and_dynamic_members_are_expanded_with_their_paths() {
    let project = demo_tenant();
    let run = project.run(&[
        "access",
        "--format",
        "json",
        "--mailbox",
        "archiv@contoso.com",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run.stdout);
    assert_eq!(
        entries(&report, "archiv@contoso.com"),
        [
            entry("fullAccess", "katrin.schulz@contoso.com", "", ""),
            // support-team holds support-tier2, which holds support-team again: cut, listed once.
            entry("fullAccess", "support-team@contoso.com", "", "nestedCycle"),
            entry(
                "fullAccess",
                "jonas.meier@contoso.com",
                "support-team@contoso.com",
                ""
            ),
            entry(
                "fullAccess",
                "emily.clarke@contoso.com",
                "support-team@contoso.com",
                ""
            ),
            entry(
                "fullAccess",
                "support-tier2@contoso.com",
                "support-team@contoso.com",
                "nestedCycle"
            ),
            entry(
                "fullAccess",
                "daniel.fischer@contoso.com",
                "support-team@contoso.com -> support-tier2@contoso.com",
                ""
            ),
            entry(
                "fullAccess",
                "max.vogel@contoso.com",
                "support-team@contoso.com -> support-tier2@contoso.com",
                "disabledAccount"
            ),
            entry(
                "fullAccess",
                "app:0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
                "",
                "servicePrincipal"
            ),
            entry("sendOnBehalf", "all-staff@contoso.com", "", ""),
            // Listed as what it is, its filter never guessed: no member of it appears.
            entry(
                "sendOnBehalf",
                "all-employees@contoso.com",
                "all-staff@contoso.com",
                "dynamicGroup"
            ),
            entry(
                "sendOnBehalf",
                "laura.weber@contoso.com",
                "all-staff@contoso.com",
                ""
            ),
        ]
    );
    let archiv = &report["mailboxes"][0];
    assert_eq!(archiv["signInAllowed"], true);
    assert_eq!(archiv["flags"], serde_json::json!(["signInAllowed"]));
    assert_eq!(archiv["entries"][1]["principal"]["members"], 4);
    assert_eq!(
        archiv["entries"][1]["principal"]["groupKind"],
        "mailEnabledSecurity"
    );

    // A member deleted since, a guest and an external contact, through the Sent Items reader.
    let support = json(
        &project
            .run(&[
                "access",
                "--format",
                "json",
                "--mailbox",
                "helpdesk@contoso.com",
            ])
            .stdout,
    );
    let readers: Vec<_> = entries(&support, "support@contoso.com")
        .into_iter()
        .filter(|e| e.0 == "SentItems:Reviewer")
        .collect();
    assert_eq!(
        readers,
        [
            entry("SentItems:Reviewer", "auditors@contoso.com", "", ""),
            entry(
                "SentItems:Reviewer",
                "katrin.schulz@contoso.com",
                "auditors@contoso.com",
                ""
            ),
            entry(
                "SentItems:Reviewer",
                "pruefer@wp-kanzlei.example",
                "auditors@contoso.com",
                "external"
            ),
            entry(
                "SentItems:Reviewer",
                "nina.berg@fabrikam.example",
                "auditors@contoso.com",
                "guest"
            ),
            entry(
                "SentItems:Reviewer",
                "S-1-5-21-3623811015-3361044348-30300820-1120",
                "auditors@contoso.com",
                "deletedAccount"
            ),
        ]
    );
    assert_eq!(support["mailboxes"][0]["signInAllowed"], false);
}

#[test]
fn the_reverse_lookup_finds_every_right_of_one_person_through_groups() {
    let project = demo_tenant();
    let run = project.run(&[
        "access",
        "--format",
        "json",
        "--principal",
        "k.schulz@contoso.onmicrosoft.com",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run.stdout);
    let found: Vec<(String, (String, String, String, String))> = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            let mailbox = m["mailbox"].as_str().unwrap().to_owned();
            entries(&report, &mailbox)
                .into_iter()
                .map(move |e| (mailbox.clone(), e))
        })
        .collect();
    let who = "katrin.schulz@contoso.com";
    assert_eq!(
        found,
        [
            (
                "archiv@contoso.com".into(),
                entry("fullAccess", who, "", "")
            ),
            (
                "buchhaltung@contoso.com".into(),
                entry("fullAccess", who, "accounting-team@contoso.com", "")
            ),
            (
                "buchhaltung@contoso.com".into(),
                entry("sendAs", who, "accounting-team@contoso.com", "")
            ),
            (
                "buchhaltung@contoso.com".into(),
                entry("sendOnBehalf", who, "", "")
            ),
            (
                "buchhaltung@contoso.com".into(),
                // The policy wants Editor; the tenant has Reviewer: the report says what is.
                entry("SentItems:Reviewer", who, "", "")
            ),
            (
                "support@contoso.com".into(),
                entry("SentItems:Reviewer", who, "auditors@contoso.com", "")
            ),
        ]
    );
    assert_eq!(report["summary"]["principals"], 1);

    // Offboarding a disabled account: its one right, and only through two groups.
    let vogel = project.run(&["access", "--principal", "max.vogel@contoso.com"]);
    assert_eq!(vogel.code, 0, "{}", vogel.stderr);
    assert!(vogel.stdout.contains(
        "FullAccess  max.vogel@contoso.com  via support-team@contoso.com -> support-tier2@contoso.com  disabledAccount"
    ), "{}", vogel.stdout);
    assert!(!vogel.stdout.contains("support@contoso.com"));

    // Nobody by that name, no such shared mailbox: errors with a hint, exit 1.
    let unknown = project.run(&["access", "--principal", "nobody@contoso.com"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("`nobody@contoso.com` is not a recipient"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("hint:"), "{}", unknown.stderr);
    assert!(unknown.stdout.is_empty());
    let user = project.run(&["access", "--mailbox", "katrin.schulz@contoso.com"]);
    assert_eq!(user.code, 1);
    assert!(
        user.stderr.contains("is not a shared mailbox"),
        "{}",
        user.stderr
    );
}

#[test]
fn large_groups_are_flagged_above_the_threshold_only() {
    let project = demo_tenant();
    let flags_of = |threshold: &str| {
        let run = project.run(&[
            "access",
            "--format",
            "json",
            "--mailbox",
            "archiv@contoso.com",
            "--large-group",
            threshold,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json(&run.stdout)["mailboxes"][0]["entries"][1]["flags"].clone()
    };
    // support-team reaches jonas, emily, daniel and max (support-tier2 is not counted).
    assert_eq!(
        flags_of("3"),
        serde_json::json!(["largeGroup", "nestedCycle"])
    );
    assert_eq!(flags_of("4"), serde_json::json!(["nestedCycle"]));
    let bad = project.run(&["access", "--large-group", "many"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("invalid value 'many'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn sbx104_is_not_raised_for_a_member_of_a_listed_group_in_plan() {
    let project = demo_tenant();
    project.policy(
        "archiv.yaml",
        "apiVersion: sharedbox/v1\nkind: SharedMailbox\nmailbox: archiv@contoso.com\nsendAs: [daniel.fischer@contoso.com, olivia.bennett@contoso.com]\nfullAccess:\n  - principal: support-team@contoso.com\n",
    );
    // Offline, membership is unknown: both senders are reported.
    let validate = project.run(&["validate"]);
    assert!(
        validate
            .stderr
            .contains("`daniel.fischer@contoso.com` may send as"),
        "{}",
        validate.stderr
    );
    assert!(
        validate
            .stderr
            .contains("`olivia.bennett@contoso.com` may send as")
    );
    // `plan` knows daniel is in support-tier2, nested in support-team: only olivia is left.
    let plan = project.run(&["plan"]);
    assert!(plan.code == 0 || plan.code == 2, "{}", plan.stderr);
    assert!(
        !plan
            .stderr
            .contains("`daniel.fischer@contoso.com` may send as"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("`olivia.bennett@contoso.com` may send as"),
        "{}",
        plan.stderr
    );
}

#[test]
fn the_report_over_http_through_the_simulator_is_the_file_backends() {
    let project = demo_tenant();
    let sim = SimServer::start(project.tenant(), SimConfig::default()).unwrap();
    for format in ["json", "text", "csv"] {
        let over_wire = exo(&project, &sim, &["access", "--format", format]);
        assert_eq!(over_wire.code, 0, "{}", over_wire.stderr);
        let from_file = project.run(&["access", "--format", format]);
        assert_eq!(over_wire.stdout, from_file.stdout, "{format}");
    }
    let counters = sim.counters();
    assert_eq!(counters.total_writes(), 0, "read-only");
    assert_eq!(
        counters.cmdlet("Get-UnifiedGroupLinks"),
        3,
        "one per run, one M365 group"
    );
    let reverse = exo(
        &project,
        &sim,
        &[
            "access",
            "--format",
            "json",
            "--principal",
            "max.vogel@contoso.com",
        ],
    );
    assert_eq!(reverse.code, 0, "{}", reverse.stderr);
    assert_eq!(json(&reverse.stdout)["summary"]["entries"], 1);
}
