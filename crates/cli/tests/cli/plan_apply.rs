//! Plan and apply end to end on the file backend: tenant end states, plan contents and
//! exit codes.

use crate::common;

use crate::common::{Project, full_access, identities, mailbox, readers, send_as};

const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// A policy for `support@` that sets every field, and a new mailbox.
const EVERY_FIELD: &str = r#"apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: support@fabrikam.com
displayName: Support Team
hiddenFromAddressLists: true
sentItems:
  copyForSendAs: true
  copyForSendOnBehalf: true
  copyForSmtpSubmission: false
sendAs: [anna@fabrikam.com, clara@fabrikam.com]
sendOnBehalf: [ben@fabrikam.com, david@fabrikam.com]
fullAccess:
  - principal: anna@fabrikam.com
  - principal: helpdesk@fabrikam.com
    autoMapping: false
sentItemsReaders:
  - principal: clara@fabrikam.com
    access: Editor
  - principal: david@fabrikam.com
    access: Reviewer
clients:
  owa: true
  outlook: false
  newOutlook: true
  macOutlook: false
  mobile: true
  activeSync: false
  ews: false
  imap: false
  pop: false
  smtpAuth: disabled
moderation:
  enabled: true
  moderators: [david@fabrikam.com]
  bypass: [anna@fabrikam.com, helpdesk@fabrikam.com]
  notifications: internal
lifecycle:
  preventDestroy: true
  ensure: present
---
apiVersion: sharedbox/v1
kind: SharedMailbox
mailbox: projekte@fabrikam.com
displayName: Projekte
sentItems: {copyForSendAs: true}
sendAs: [helpdesk@fabrikam.com]
fullAccess: [{principal: helpdesk@fabrikam.com, autoMapping: false}]
sentItemsReaders: [{principal: ben@fabrikam.com, access: Reviewer}]
clients: {imap: false, smtpAuth: enabled}
---
apiVersion: sharedbox/v1
kind: TenantSettings
sendFromAliasEnabled: true
smtpClientAuthenticationDisabled: false
"#;

#[test]
fn every_field_is_planned_and_applied() {
    let project = Project::new();
    project.policy("all.yaml", EVERY_FIELD);
    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    for expected in [
        "# projekte@fabrikam.com will be created",
        "# support@fabrikam.com will be updated in place",
        "~ displayName                     = \"Support\" -> \"Support Team\"",
        "~ hiddenFromAddressLists          = false -> true",
        "~ sentItems.copyForSendAs         = false -> true",
        "~ clients.outlook                 = true -> false",
        "~ sentItems.copyForSmtpSubmission = true -> false",
        "~ clients.smtpAuth                = inherit (disabled by the organisation) -> disabled",
        "~ moderation.enabled              = false -> true",
        "~ moderation.notifications        = always -> internal",
        "- ben@fabrikam.com",
        "+ clara@fabrikam.com",
        "- S-1-5-21-1111111111-2222222222-3333333333-1107 (orphaned)",
        "- clara@fabrikam.com: Reviewer",
        "+ clara@fabrikam.com: Editor",
        "~ sendFromAliasEnabled             = false -> true",
        "~ smtpClientAuthenticationDisabled = true -> false",
        // A new mailbox's `inherit` is judged against the organisation as it is now.
        "~ clients.smtpAuth                = inherit (disabled by the organisation) -> enabled",
        // Every new reader gets `FolderVisible` on the root: david on `support@` (clara has
        // it), ben on the new `projekte@`.
        "+ sentItemsReaders (mailbox root) = david@fabrikam.com: FolderVisible",
        "+ sentItemsReaders (mailbox root) = ben@fabrikam.com: FolderVisible",
        "Plan: 1 to create, 25 to change, 2 to revoke.",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "plan lacks `{expected}`:\n{}",
            plan.stdout
        );
    }

    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Apply complete: 35 changes applied"),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stderr
            .contains("verified: the tenant shows all 35 changes"),
        "{}",
        apply.stderr
    );

    let tenant = project.tenant();
    let support = mailbox(&tenant, "support@fabrikam.com");
    assert_eq!(support.display_name, "Support Team");
    assert!(support.hidden_from_address_lists_enabled);
    assert!(
        support.message_copy_for_sent_as_enabled && support.message_copy_for_send_on_behalf_enabled
    );
    assert_eq!(
        send_as(&tenant, "support@fabrikam.com"),
        ["anna@fabrikam.com", "clara@fabrikam.com"]
    );
    assert_eq!(
        identities(&tenant, &support.grant_send_on_behalf_to),
        ["ben@fabrikam.com", "david@fabrikam.com"]
    );
    assert_eq!(
        full_access(&tenant, "support@fabrikam.com"),
        ["anna@fabrikam.com", "helpdesk@fabrikam.com"]
    );
    assert_eq!(
        readers(&tenant, "support@fabrikam.com"),
        ["clara@fabrikam.com: Editor", "david@fabrikam.com: Reviewer"]
    );
    let cas = &support.cas_mailbox;
    assert_eq!(
        [
            cas.owa_enabled,
            cas.mapi_enabled,
            cas.one_win_native_outlook_enabled,
            cas.mac_outlook_enabled,
            cas.outlook_mobile_enabled,
            cas.active_sync_enabled,
            cas.ews_enabled,
            cas.imap_enabled,
            cas.pop_enabled
        ],
        [
            Some(true),
            Some(false),
            Some(true),
            Some(false),
            Some(true),
            Some(false),
            Some(false),
            Some(false),
            Some(false)
        ]
    );
    assert_eq!(cas.smtp_client_authentication_disabled, Some(true));
    assert!(support.moderation_enabled);
    assert_eq!(
        identities(&tenant, &support.moderated_by),
        ["david@fabrikam.com"]
    );
    assert_eq!(
        identities(&tenant, &support.bypass_moderation_from_senders_or_members),
        ["anna@fabrikam.com", "helpdesk@fabrikam.com"]
    );
    assert_eq!(support.send_moderation_notifications, "Internal");
    // Exchange's own shapes: Names in GrantSendOnBehalfTo, display names in folder rights.
    assert!(
        support
            .grant_send_on_behalf_to
            .contains(&"0a1b2c3d-0000-4000-8000-000000000004".to_owned())
    );
    assert!(
        support
            .sent_items
            .permissions
            .iter()
            .any(|p| p.user == "David Eck")
    );
    // Every reader can browse to Sent Items: `FolderVisible` on the root.
    let root = |m: &sharedbox_tenant::Mailbox| -> Vec<String> {
        m.root_folder
            .iter()
            .flatten()
            .map(|p| format!("{}: {}", p.user, p.access_rights.join(",")))
            .collect()
    };
    assert_eq!(
        root(support),
        [
            "Default: None",
            "Anonymous: None",
            "Clara Diaz: FolderVisible",
            "David Eck: FolderVisible"
        ]
    );
    // The helpdesk grant kept its autoMapping (the file backend records it).
    let helpdesk = support
        .mailbox_permissions
        .iter()
        .find(|p| p.user == "helpdesk")
        .unwrap();
    assert_eq!(helpdesk.auto_mapping, Some(false));

    let projekte = mailbox(&tenant, "projekte@fabrikam.com");
    assert_eq!(projekte.display_name, "Projekte");
    assert!(projekte.message_copy_for_sent_as_enabled);
    assert!(
        !projekte.message_copy_for_send_on_behalf_enabled,
        "unmanaged on the new mailbox: Exchange default"
    );
    assert_eq!(
        send_as(&tenant, "projekte@fabrikam.com"),
        ["helpdesk@fabrikam.com"]
    );
    assert_eq!(
        full_access(&tenant, "projekte@fabrikam.com"),
        ["helpdesk@fabrikam.com"]
    );
    assert_eq!(
        readers(&tenant, "projekte@fabrikam.com"),
        ["ben@fabrikam.com: Reviewer"]
    );
    assert_eq!(
        root(projekte),
        [
            "Default: None",
            "Anonymous: None",
            "Ben Krause: FolderVisible"
        ]
    );
    assert_eq!(
        projekte.cas_mailbox.smtp_client_authentication_disabled,
        Some(false)
    );
    assert!(tenant.organization.send_from_alias_enabled);
    assert_eq!(
        tenant.organization.smtp_client_authentication_disabled,
        Some(false)
    );
    assert!(!support.message_copy_for_smtp_client_submission_enabled);

    let again = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert!(
        again
            .stdout
            .contains("matches the policies (2 managed mailboxes)"),
        "{}",
        again.stdout
    );
}

#[test]
fn absent_fields_are_untouched() {
    let project = Project::new();
    let before = project.tenant();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems:\n  copyForSendAs: true\n"),
    );
    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("Plan: 0 to create, 1 to change, 0 to revoke."),
        "{}",
        apply.stdout
    );
    let after = project.tenant();
    let mut expected = mailbox(&before, "support@fabrikam.com").clone();
    expected.message_copy_for_sent_as_enabled = true;
    assert_eq!(
        mailbox(&after, "support@fabrikam.com"),
        &expected,
        "only the declared field changed"
    );
    assert_eq!(
        mailbox(&after, "buchhaltung@fabrikam.com"),
        mailbox(&before, "buchhaltung@fabrikam.com"),
        "unmanaged mailbox untouched"
    );
    assert_eq!(
        after.organization, before.organization,
        "no TenantSettings: organization untouched"
    );
}

#[test]
fn empty_lists_revoke_everything_but_built_ins() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: []\nsendOnBehalf: []\nfullAccess: []\nsentItemsReaders: []\nmoderation:\n  moderators: []\n  bypass: []\n"),
    );
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 0 to change, 6 to revoke."),
        "{}",
        plan.stdout
    );
    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let tenant = project.tenant();
    let support = mailbox(&tenant, "support@fabrikam.com");
    assert!(send_as(&tenant, "support@fabrikam.com").is_empty());
    assert!(support.grant_send_on_behalf_to.is_empty());
    assert!(
        full_access(&tenant, "support@fabrikam.com").is_empty(),
        "no direct FullAccess is left"
    );
    assert!(readers(&tenant, "support@fabrikam.com").is_empty());
    assert!(
        support
            .mailbox_permissions
            .iter()
            .any(|p| p.user == "NT AUTHORITY\\SELF"),
        "SELF stays"
    );
    assert!(
        support
            .mailbox_permissions
            .iter()
            .any(|p| p.user == "ben@fabrikam.com" && p.is_inherited),
        "inherited ACE stays"
    );
    assert!(
        support
            .recipient_permissions
            .iter()
            .any(|p| p.trustee == "NT AUTHORITY\\SELF"),
        "SELF SendAs stays"
    );
    let folder_users: Vec<&str> = support
        .sent_items
        .permissions
        .iter()
        .map(|p| p.user.as_str())
        .collect();
    assert_eq!(
        folder_users,
        ["Default", "Anonymous"],
        "Default and Anonymous stay"
    );
}

#[test]
fn principals_compare_by_identity_not_spelling() {
    // The tenant returns Anna by UPN, Ben by his old Name `bkrause`, the helpdesk group by
    // Name, Clara by display name. The policy names them by SMTP alias, object id, primary
    // SMTP and UPN: nothing must change.
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: SUPPORT@fabrikam.com\nsendAs: [anna.berg@fabrikam.com, 0a1b2c3d-0000-4000-8000-000000000002]\nsendOnBehalf: [BEN@fabrikam.com]\nfullAccess:\n  - principal: anna.berg@fabrikam.onmicrosoft.com\n  - principal: S-1-5-21-1111111111-2222222222-3333333333-1107@x.invalid\n"
        ),
    );
    let run = project.run(&["plan"]);
    assert_eq!(
        run.code, 1,
        "the orphan SID is not a recipient: {}",
        run.stdout
    );
    project.policy(
        "support.yaml",
        &format!(
            "{HEADER}mailbox: SUPPORT@fabrikam.com\nsendAs: [anna.berg@fabrikam.com, 0a1b2c3d-0000-4000-8000-000000000002]\nsendOnBehalf: [BEN@fabrikam.com]\nsentItemsReaders: [{{principal: clara@fabrikam.com, access: Reviewer}}]\n"
        ),
    );
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nfullAccess: [{{principal: 0A1B2C3D-0000-4000-8000-000000000010}}]\n"));
    let run = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

#[test]
fn unknown_principal_fails_the_plan_at_its_position() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs:\n  - anna@fabrikam.com\n  - zoe@fabrikam.com\n"));
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        let run = project.run(command);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("policies/support.yaml:6:5"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("`zoe@fabrikam.com` is not a recipient of the tenant"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("the plan could not be made: 1 error"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    assert_eq!(project.tenant_text(), before);
}

#[test]
fn exit_codes_of_plan() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients: {{imap: false}}\n"),
    );
    assert_eq!(
        project.run(&["plan"]).code,
        0,
        "changes without --detailed-exitcode: 0"
    );
    assert_eq!(project.run(&["plan", "--detailed-exitcode"]).code, 2);
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients: {{imap: true}}\n"),
    );
    assert_eq!(
        project.run(&["plan", "--detailed-exitcode"]).code,
        0,
        "no changes: 0"
    );
}

#[test]
fn apply_needs_confirmation_without_a_terminal() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients: {{imap: false}}\n"),
    );
    let run = project.run(&["apply"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("refusing to apply without confirmation"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert_eq!(project.tenant_text(), before);
}

#[test]
fn max_removals_guard() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: []\nfullAccess: []\n"),
    );
    let run = project.run(&["apply", "--auto-approve", "--max-removals", "3"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the plan takes away 4 grants (revocations and grants on deleted mailboxes), more than the limit of 3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--max-removals 4"), "{}", run.stderr);
    assert_eq!(project.tenant_text(), before);
    assert_eq!(
        project
            .run(&["apply", "--auto-approve", "--max-removals", "4"])
            .code,
        0
    );
}

#[test]
fn deletion_needs_allow_destroy() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nlifecycle: {{ensure: absent}}\n"),
    );
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("# support@fabrikam.com will be DELETED"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 0 to change, 0 to revoke, 1 to destroy."),
        "{}",
        plan.stdout
    );
    let run = project.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("`--allow-destroy` was not given"),
        "{}",
        run.stderr
    );
    assert_eq!(project.tenant_text(), before);
    let run = project.run(&["apply", "--auto-approve", "--allow-destroy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !project
            .tenant()
            .mailboxes
            .iter()
            .any(|m| m.primary_smtp_address == "support@fabrikam.com")
    );
}

#[test]
fn a_distribution_group_in_send_as_stops_the_plan_before_any_write() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com, all-staff@fabrikam.com]\n"));
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        let run = project.run(command);
        assert_eq!(run.code, 1, "{command:?}: {}", run.stderr);
        assert!(run.stderr.contains("SBX204"), "{}", run.stderr);
        assert!(
            run.stderr.contains("`all-staff@fabrikam.com` in `sendAs` of `support@fabrikam.com` is a distribution group"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("1 lint error in the policies"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("policies/support.yaml:5:29"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(project.tenant_text(), before, "nothing was written");
}

#[test]
fn a_failed_step_stops_before_later_waves_and_is_rolled_back() {
    // SendAs for a distribution group is refused by Exchange. The properties wave has run and
    // is undone; the revocation of Ben's SendAs (last wave) never runs. (Lint SBX204 would stop
    // this plan before any write; the mailbox switches it off to reach Exchange's refusal.)
    let project = Project::new();
    let before = project.tenant();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendAs: true}}\nsendAs: [anna@fabrikam.com, all-staff@fabrikam.com]\nlints: {{SBX204: off}}\n"));
    let run = project.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "Apply failed at step 2: Add-RecipientPermission support@fabrikam.com (sendAs)"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("cannot hold Send As"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "Rolled back: 1 reverted, 1 without change to undo, 0 that cannot be undone."
        ),
        "{}",
        run.stdout
    );
    assert_eq!(project.tenant(), before, "the tenant is exactly as before");

    let run = project.run(&["apply", "--auto-approve", "--no-rollback"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("Kept 1 applied change (`--no-rollback`); 1 not run."),
        "{}",
        run.stdout
    );
    let tenant = project.tenant();
    assert!(
        mailbox(&tenant, "support@fabrikam.com").message_copy_for_sent_as_enabled,
        "the properties wave stays"
    );
    assert_eq!(
        send_as(&tenant, "support@fabrikam.com"),
        ["anna@fabrikam.com", "ben@fabrikam.com"],
        "Ben keeps Send As: revocations never ran"
    );
}

#[test]
fn targeting_plans_only_the_target_and_warns() {
    let project = Project::new();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nclients: {{imap: false}}\n"),
    );
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nhiddenFromAddressLists: true\n"),
    );
    project.policy(
        "tenant.yaml",
        "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
    );
    let run = project.run(&["plan", "--target", "buchhaltung@fabrikam.com"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("targeting is in effect"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("buchhaltung@fabrikam.com"));
    assert!(
        !run.stdout.contains("support@fabrikam.com"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("sendFromAliasEnabled"),
        "{}",
        run.stdout
    );
    let run = project.run(&["plan", "--target", "nobody@fabrikam.com"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("`--target nobody@fabrikam.com` names no managed mailbox"),
        "{}",
        run.stderr
    );
}

#[test]
fn defaults_fill_gaps_and_the_mailbox_wins() {
    let project = Project::new();
    project.policy(
        "defaults.yaml",
        "apiVersion: sharedbox/v1\nkind: Defaults\nsentItems: {copyForSendAs: true, copyForSendOnBehalf: true}\nclients: {imap: false, pop: false}\nsendAs: [helpdesk@fabrikam.com]\n",
    );
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nsentItems: {{copyForSendOnBehalf: false}}\nclients: {{imap: true}}\nsendAs: [anna@fabrikam.com]\n"));
    project.policy(
        "buchhaltung.yaml",
        &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\n"),
    );
    let run = project.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tenant = project.tenant();
    let support = mailbox(&tenant, "support@fabrikam.com");
    assert!(support.message_copy_for_sent_as_enabled, "from Defaults");
    assert!(
        !support.message_copy_for_send_on_behalf_enabled,
        "the mailbox's own value wins"
    );
    assert_eq!(
        support.cas_mailbox.imap_enabled,
        Some(true),
        "the mailbox's own switch wins"
    );
    assert_eq!(
        support.cas_mailbox.pop_enabled,
        Some(false),
        "other switches come from Defaults"
    );
    assert_eq!(
        send_as(&tenant, "support@fabrikam.com"),
        ["anna@fabrikam.com"],
        "a list replaces, never merges"
    );
    assert_eq!(
        send_as(&tenant, "buchhaltung@fabrikam.com"),
        ["helpdesk@fabrikam.com"],
        "Defaults list applies where the mailbox sets none"
    );
}

#[test]
fn german_sent_items_and_orphaned_folder_entries() {
    let project = Project::new();
    project.policy("buchhaltung.yaml", &format!("{HEADER}mailbox: buchhaltung@fabrikam.com\nsentItemsReaders:\n  - {{principal: helpdesk@fabrikam.com, access: Reviewer}}\n"));
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("sentItemsReaders (folder \"Gesendete Elemente\")"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("- NT:S-1-5-21-1111111111-2222222222-3333333333-1190 (orphaned): Reviewer"),
        "{}",
        plan.stdout
    );
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    let tenant = project.tenant();
    assert_eq!(
        readers(&tenant, "buchhaltung@fabrikam.com"),
        ["helpdesk@fabrikam.com: Reviewer"]
    );
    assert_eq!(
        mailbox(&tenant, "buchhaltung@fabrikam.com").sent_items.name,
        "Gesendete Elemente"
    );
}

#[test]
fn changed_auto_mapping_is_a_regrant() {
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess:\n  - {{principal: anna@fabrikam.com}}\n  - {{principal: helpdesk@fabrikam.com, autoMapping: false}}\n"));
    assert_eq!(project.run(&["apply", "--auto-approve"]).code, 0);
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nfullAccess:\n  - {{principal: anna@fabrikam.com}}\n  - {{principal: helpdesk@fabrikam.com, autoMapping: true}}\n"));
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("- helpdesk@fabrikam.com (autoMapping: false)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("+ helpdesk@fabrikam.com (autoMapping: true)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("autoMapping can only be set when access is granted"),
        "{}",
        plan.stdout
    );
    // A re-grant takes nobody's access away: it is a change in the summary and does not
    // count against `--max-removals` (one meaning of "revocation").
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 2 to change, 0 to revoke."),
        "{}",
        plan.stdout
    );
    let run = project.run(&["apply", "--auto-approve", "--max-removals", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tenant = project.tenant();
    let row = mailbox(&tenant, "support@fabrikam.com")
        .mailbox_permissions
        .iter()
        .find(|p| p.user == "helpdesk")
        .unwrap();
    assert_eq!(row.auto_mapping, Some(true));
    assert_eq!(project.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn an_empty_policy_set_changes_nothing() {
    let project = Project::new();
    let before = project.tenant_text();
    let run = project.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("no policies found"), "{}", run.stderr);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    assert_eq!(project.tenant_text(), before);
}

#[test]
fn a_missing_tenant_file_is_a_clear_error() {
    let project = Project::new();
    std::fs::remove_file(project.path().join("tenant.yaml")).unwrap();
    let run = project.run(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cannot access tenant file `tenant.yaml`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn plan_compares_a_moderator_and_a_bypass_entry_as_people_not_spellings() {
    // Anna by address as moderator and by UPN in the bypass list: one person.
    let project = Project::new();
    project.policy("support.yaml", &format!("{HEADER}mailbox: support@fabrikam.com\nmoderation:\n  enabled: true\n  moderators: [anna@fabrikam.com]\n  bypass: [anna.berg@fabrikam.onmicrosoft.com]\n"));
    let offline = project.run(&["validate"]);
    assert!(!offline.stderr.contains("SBX107"), "{}", offline.stderr);
    let plan = project.run(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stderr.contains("SBX107"), "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("`anna.berg@fabrikam.onmicrosoft.com` moderates `support@fabrikam.com`"),
        "{}",
        plan.stderr
    );
}

/// The fixture tenant, with `help@fabrikam.com` as a secondary address of `support@`.
fn tenant_with_alias() -> String {
    let tenant = common::TENANT.replacen(
        "    userPrincipalName: support@fabrikam.com\n",
        "    userPrincipalName: support@fabrikam.com\n    emailAddresses: [\"SMTP:support@fabrikam.com\", \"smtp:help@fabrikam.com\"]\n",
        1,
    );
    assert_ne!(tenant, common::TENANT, "the fixture changed");
    tenant
}

#[test]
fn a_policy_keyed_by_an_alias_cannot_delete_the_mailbox_behind_it() {
    let project = Project::with_tenant(&tenant_with_alias());
    let before = project.tenant_text();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nsendAs: [ben@fabrikam.com]\nlifecycle: {{preventDestroy: true}}\n"),
    );
    project.policy(
        "help.yaml",
        &format!("{HEADER}mailbox: help@fabrikam.com\nlifecycle: {{ensure: absent}}\n"),
    );
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve", "--allow-destroy"],
        &["drift"],
    ] {
        let run = project.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("help.yaml:3:10")
                && run.stderr.contains(
                    "`help@fabrikam.com` is an alias of the shared mailbox `support@fabrikam.com`"
                )
                && run.stderr.contains("mailbox: support@fabrikam.com"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("are the same mailbox"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(project.tenant_text(), before, "nothing was written");
}

#[test]
fn a_policy_keyed_by_an_alias_alone_names_the_primary_address() {
    let project = Project::with_tenant(&tenant_with_alias());
    project.policy(
        "help.yaml",
        &format!("{HEADER}mailbox: HELP@fabrikam.com\nsendAs: [ben@fabrikam.com]\n"),
    );
    let run = project.run(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is an alias of the shared mailbox `support@fabrikam.com`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("same mailbox"), "{}", run.stderr);
    // The primary address, in another case, is the mailbox itself.
    project.policy(
        "help.yaml",
        &format!("{HEADER}mailbox: Support@Fabrikam.com\nsendAs: [ben@fabrikam.com]\n"),
    );
    let run = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn a_policy_for_a_user_mailbox_group_or_contact_address_fails_at_plan_time() {
    for (address, kind) in [
        (
            "anna@fabrikam.com",
            "the user mailbox `Anna Berg` (UserMailbox)",
        ),
        (
            "anna.berg@fabrikam.com",
            "the user mailbox `Anna Berg` (UserMailbox)",
        ),
        ("all-staff@fabrikam.com", "the group"),
    ] {
        let project = Project::new();
        let before = project.tenant_text();
        project.policy(
            "x.yaml",
            &format!("{HEADER}mailbox: {address}\nsendAs: [ben@fabrikam.com]\n"),
        );
        for args in [&["plan"][..], &["apply", "--auto-approve"]] {
            let run = project.run(args);
            assert_eq!(run.code, 1, "{address} {args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("x.yaml:3:10")
                    && run
                        .stderr
                        .contains(&format!("`{address}` belongs to {kind}")),
                "{address} {args:?}: {}",
                run.stderr
            );
        }
        assert_eq!(project.tenant_text(), before, "nothing was written");
    }
}

#[test]
fn grants_lost_with_a_deleted_mailbox_count_against_max_removals() {
    let project = Project::new();
    let before = project.tenant_text();
    project.policy(
        "support.yaml",
        &format!("{HEADER}mailbox: support@fabrikam.com\nlifecycle: {{ensure: absent}}\n"),
    );
    // support@ holds 6 grants: FullAccess (Anna, an orphaned SID), Send As (Anna, Ben), Send
    // on Behalf (Ben), a Sent Items reader (Clara); SELF, inherited rows and Default/Anonymous
    // are not grants.
    let plan = project.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("# support@fabrikam.com will be DELETED, and 6 grants on it with it"),
        "{}",
        plan.stdout
    );
    let run = project.run(&[
        "apply",
        "--auto-approve",
        "--allow-destroy",
        "--max-removals",
        "5",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("takes away 6 grants"), "{}", run.stderr);
    assert_eq!(project.tenant_text(), before, "nothing was written");
    let run = project.run(&[
        "apply",
        "--auto-approve",
        "--allow-destroy",
        "--max-removals",
        "6",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        project
            .tenant()
            .mailboxes
            .iter()
            .all(|m| m.primary_smtp_address != "support@fabrikam.com")
    );
}
