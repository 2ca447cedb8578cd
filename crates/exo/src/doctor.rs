//! `sharedbox doctor`: can this identity read and write what sharedbox needs?
//!
//! It asks the admin API which cmdlets the identity may run (`EXOModuleFile`), compares
//! them with what `plan`/`drift`/`export` (reader) and `apply`/`rollback` (writer) need,
//! and runs one harmless read per cmdlet family. It never writes.

use crate::ExoTenant;
use crate::client::Command;
use crate::error::{ExoError, roles_for};

/// What `plan`, `drift` and `export` run.
pub const READER_CMDLETS: &[&str] = &[
    "Get-OrganizationConfig",
    "Get-TransportConfig",
    "Get-Recipient",
    "Get-Mailbox",
    "Get-CASMailbox",
    "Get-RecipientPermission",
    "Get-MailboxPermission",
    "Get-MailboxFolderStatistics",
    "Get-MailboxFolderPermission",
    "Get-AcceptedDomain",
];

/// Reads of principals without mail that `plan`, `drift` and `export` also run. Without
/// them the reads still work, but a SID nothing resolves is reported as "not looked up"
/// instead of orphaned, and a policy cannot name a service principal (`app:<appId>`).
pub const DIRECTORY_CMDLETS: &[&str] = &["Get-ServicePrincipal", "Get-User", "Get-Group"];

/// What `apply` and `rollback` run besides the reads (`Remove-Mailbox` only with
/// `ensure: absent` and `--allow-destroy`).
pub const WRITER_CMDLETS: &[&str] = &[
    "New-Mailbox",
    "Set-Mailbox",
    "Add-RecipientPermission",
    "Remove-RecipientPermission",
    "Add-MailboxPermission",
    "Remove-MailboxPermission",
    "Add-MailboxFolderPermission",
    "Set-MailboxFolderPermission",
    "Remove-MailboxFolderPermission",
    "Set-CASMailbox",
    "Set-OrganizationConfig",
    "Set-TransportConfig",
];

/// One harmless read and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The cmdlet.
    pub cmdlet: &'static str,
    /// `Ok(objects returned)` or what went wrong.
    pub result: Result<usize, String>,
    /// What to do when it failed.
    pub hint: Option<String>,
}

/// What doctor found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The cmdlets the identity may run, if the API told.
    pub exported: Result<Vec<String>, String>,
    /// Reader cmdlets the identity may not run.
    pub missing_reader: Vec<&'static str>,
    /// Writer cmdlets the identity may not run.
    pub missing_writer: Vec<&'static str>,
    /// Directory reads ([`DIRECTORY_CMDLETS`]) the identity may not run: reading still
    /// works, but unresolved entries are "not looked up" rather than orphaned.
    pub missing_directory: Vec<&'static str>,
    /// The harmless reads.
    pub probes: Vec<Probe>,
}

impl Report {
    /// Whether `plan`, `drift` and `export` can run.
    pub fn can_read(&self) -> bool {
        self.exported.is_ok()
            && self.missing_reader.is_empty()
            && self.probes.iter().all(|p| p.result.is_ok())
    }

    /// Whether `apply` and `rollback` can run as well.
    pub fn can_write(&self) -> bool {
        self.can_read() && self.missing_writer.is_empty()
    }
}

/// The role that grants each missing cmdlet, for hints.
pub fn role_hint(cmdlet: &str) -> &'static str {
    roles_for(cmdlet)
}

/// Runs the checks.
pub async fn diagnose(tenant: &ExoTenant) -> Report {
    let client = tenant.client();
    let exported = client.exported_cmdlets().await;
    let may = |cmdlet: &str| match &exported {
        Ok(list) => list.iter().any(|c| c.eq_ignore_ascii_case(cmdlet)),
        Err(_) => false,
    };
    let missing_reader = READER_CMDLETS.iter().copied().filter(|c| !may(c)).collect();
    let missing_writer = WRITER_CMDLETS.iter().copied().filter(|c| !may(c)).collect();
    let missing_directory = DIRECTORY_CMDLETS
        .iter()
        .copied()
        .filter(|c| !may(c))
        .collect();

    let mut probes = Vec::new();
    let mut record = |cmdlet: &'static str, result: Result<crate::Output, ExoError>| {
        let first = result
            .as_ref()
            .ok()
            .and_then(|o| o.rows.first().and_then(|r| r.text("PrimarySmtpAddress")));
        probes.push(Probe {
            cmdlet,
            hint: result
                .as_ref()
                .err()
                .and_then(|e| miette::Diagnostic::help(e).map(|h| h.to_string())),
            result: result.map(|o| o.rows.len()).map_err(|e| e.to_string()),
        });
        first
    };
    let one = |cmdlet: &'static str| Command::read(cmdlet).param("ResultSize", 1);
    record(
        "Get-OrganizationConfig",
        client
            .invoke(&Command::read("Get-OrganizationConfig"))
            .await,
    );
    record(
        "Get-TransportConfig",
        client.invoke(&Command::read("Get-TransportConfig")).await,
    );
    record(
        "Get-AcceptedDomain",
        client.invoke(&Command::read("Get-AcceptedDomain")).await,
    );
    record("Get-Recipient", client.invoke(&one("Get-Recipient")).await);
    let shared = record(
        "Get-Mailbox",
        client
            .invoke(&one("Get-Mailbox").param("RecipientTypeDetails", "SharedMailbox"))
            .await,
    );
    record(
        "Get-CASMailbox",
        client
            .invoke(&one("Get-CASMailbox").param("RecipientTypeDetails", "SharedMailbox"))
            .await,
    );
    record(
        "Get-RecipientPermission",
        client.invoke(&one("Get-RecipientPermission")).await,
    );
    if let Some(mailbox) = shared {
        let on = |cmdlet: &'static str| {
            Command::read(cmdlet)
                .param("Identity", mailbox.as_str())
                .anchored(&mailbox)
        };
        record(
            "Get-MailboxPermission",
            client.invoke(&on("Get-MailboxPermission")).await,
        );
        let folders = client
            .invoke(&on("Get-MailboxFolderStatistics").param("FolderScope", "SentItems"))
            .await;
        let folder = folders.as_ref().ok().and_then(|o| {
            o.rows
                .iter()
                .find(|r| {
                    r.text("FolderType")
                        .is_some_and(|t| t.eq_ignore_ascii_case("SentItems"))
                })
                .map(|r| crate::read::folder_identity(&mailbox, &r.text_or_empty("FolderId"), r))
        });
        record("Get-MailboxFolderStatistics", folders);
        if let Some(folder) = folder {
            record(
                "Get-MailboxFolderPermission",
                client
                    .invoke(
                        &Command::read("Get-MailboxFolderPermission")
                            .param("Identity", folder)
                            .anchored(&mailbox),
                    )
                    .await,
            );
        }
    }
    Report {
        exported: exported.map_err(|e| e.to_string()),
        missing_reader,
        missing_writer,
        missing_directory,
        probes,
    }
}
