//! Helpers for the end-to-end tests: a workspace in a temp dir with `sharedbox.yaml`, a
//! tenant file and policies, and a runner for the real `sharedbox` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sharedbox_file::TenantFile;

/// The fixture tenant shared by the tests.
pub const TENANT: &str = include_str!("../fixtures/tenant.yaml");

/// A temporary sharedbox project.
pub struct Project {
    pub dir: tempfile::TempDir,
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Project {
    /// Runs git in the project with a fixed identity (no signing); panics when it fails.
    pub fn git(&self, args: &[&str]) {
        let out = std::process::Command::new("git")
            .current_dir(self.path())
            .args([
                "-c",
                "user.email=ci@example.com",
                "-c",
                "user.name=ci",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A project with the fixture tenant and no policies.
    pub fn new() -> Project {
        Project::with_tenant(TENANT)
    }

    /// A project with `tenant` as its tenant file.
    pub fn with_tenant(tenant: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("policies")).unwrap();
        std::fs::write(dir.path().join("tenant.yaml"), tenant).unwrap();
        std::fs::write(
            dir.path().join("sharedbox.yaml"),
            "policies: policies/\ntenant:\n  backend: file\n  path: tenant.yaml\nstateDir: .sharedbox/\n",
        )
        .unwrap();
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A project with the demo's policies and tenant file (`policies/`,
    /// `examples/contoso/tenant.yaml`), outside any git checkout.
    pub fn demo() -> Project {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let tenant = std::fs::read_to_string(root.join("examples/contoso/tenant.yaml")).unwrap();
        let project = Project::with_tenant(&tenant);
        for entry in std::fs::read_dir(root.join("policies")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() {
                std::fs::copy(
                    entry.path(),
                    project.path().join("policies").join(entry.file_name()),
                )
                .unwrap();
            }
        }
        project
    }

    /// Writes a policy file (relative to `policies/`).
    pub fn policy(&self, name: &str, text: &str) -> &Project {
        let path = self.path().join("policies").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Runs `sharedbox` with `args` in the project folder, with no terminal and no colour.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }

    /// The tenant file's text.
    pub fn tenant_text(&self) -> String {
        std::fs::read_to_string(self.path().join("tenant.yaml")).unwrap()
    }

    /// The tenant file, parsed.
    pub fn tenant(&self) -> TenantFile {
        TenantFile::parse(&self.tenant_text(), &PathBuf::from("tenant.yaml")).unwrap()
    }

    /// Writes `tenant` as the project's tenant file.
    pub fn write_tenant(&self, tenant: &TenantFile) {
        std::fs::write(
            self.path().join("tenant.yaml"),
            serde_saphyr::to_string(tenant).unwrap(),
        )
        .unwrap();
    }
}

/// Runs `sharedbox` with `args` in `dir`, with no terminal and no colour.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_with_env(dir, args, &[])
}

/// Runs `sharedbox` with `args` in `dir` and extra environment variables.
pub fn run_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::cargo_bin("sharedbox")
        .unwrap()
        .current_dir(dir)
        .env_remove("SHAREDBOX_EXO_ENDPOINT")
        .env_remove("SHAREDBOX_LOG")
        .env_remove("SHAREDBOX_LOG_REDACT")
        .env_remove("SHAREDBOX_ACCESS_TOKEN")
        .env_remove("SHAREDBOX_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .env_remove("SHAREDBOX_CONFIG")
        .env_remove("SHAREDBOX_FLEET_MEMBER")
        // git never looks above the project: a temp project is never part of a checkout,
        // also when the tests run from a git hook (which points `GIT_DIR` at its repository).
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .args(args)
        // A command that hangs (a FIFO read, a lock never released) fails its test instead
        // of stalling the suite.
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .expect("sharedbox runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The mailbox `address` of a tenant file.
pub fn mailbox<'a>(tenant: &'a TenantFile, address: &str) -> &'a sharedbox_tenant::Mailbox {
    tenant
        .mailboxes
        .iter()
        .find(|m| m.primary_smtp_address == address)
        .unwrap_or_else(|| panic!("mailbox {address} exists"))
}

/// The identities (primary SMTP) behind a list of live principal strings; orphans as `orphan:<raw>`.
pub fn identities(
    tenant: &TenantFile,
    raw: impl IntoIterator<Item = impl AsRef<str>>,
) -> Vec<String> {
    let directory = tenant.directory();
    let mut out: Vec<String> = raw
        .into_iter()
        .filter_map(|r| match directory.resolve_live(r.as_ref()) {
            sharedbox_tenant::LivePrincipal::BuiltIn => None,
            sharedbox_tenant::LivePrincipal::Recipient(rec) => {
                Some(rec.primary_smtp_address.clone())
            }
            _ => Some(format!("orphan:{}", r.as_ref())),
        })
        .collect();
    out.sort();
    out
}

/// Who holds SendAs on a mailbox (non-inherited, allow).
pub fn send_as(tenant: &TenantFile, address: &str) -> Vec<String> {
    let m = mailbox(tenant, address);
    identities(
        tenant,
        m.recipient_permissions
            .iter()
            .filter(|r| !r.is_inherited && r.access_rights.iter().any(|a| a == "SendAs"))
            .map(|r| &r.trustee),
    )
}

/// Who holds FullAccess on a mailbox (non-inherited, allow).
pub fn full_access(tenant: &TenantFile, address: &str) -> Vec<String> {
    let m = mailbox(tenant, address);
    identities(
        tenant,
        m.mailbox_permissions
            .iter()
            .filter(|r| {
                !r.is_inherited && !r.deny && r.access_rights.iter().any(|a| a == "FullAccess")
            })
            .map(|r| &r.user),
    )
}

/// The Sent Items readers of a mailbox as `address: Role`.
pub fn readers(tenant: &TenantFile, address: &str) -> Vec<String> {
    folder_entries(tenant, &mailbox(tenant, address).sent_items.permissions)
}

/// Folder permission `rows` as sorted `address: Role` (`orphan:<raw>: Role` for what resolves
/// to nothing), `Default` and `Anonymous` left out.
pub fn folder_entries(
    tenant: &TenantFile,
    rows: &[sharedbox_tenant::FolderPermission],
) -> Vec<String> {
    let directory = tenant.directory();
    let mut out: Vec<String> = rows
        .iter()
        .filter_map(|p| match directory.resolve_live(&p.user) {
            sharedbox_tenant::LivePrincipal::BuiltIn => None,
            sharedbox_tenant::LivePrincipal::Recipient(r) => Some(format!(
                "{}: {}",
                r.primary_smtp_address,
                p.access_rights.join(",")
            )),
            _ => Some(format!("orphan:{}: {}", p.user, p.access_rights.join(","))),
        })
        .collect();
    out.sort();
    out
}

/// The tenant with row order, simulation counters, write-once autoMapping and soft-deleted
/// mailboxes left out.
pub fn normalized(mut tenant: TenantFile) -> TenantFile {
    tenant.simulation = None;
    // A mailbox a rolled-back run created stays soft-deleted (recoverable for 30 days, never
    // purged by sharedbox): not part of the live state a rollback restores.
    tenant.soft_deleted_mailboxes.clear();
    tenant.mailboxes = tenant
        .mailboxes
        .iter()
        .map(sharedbox_tenant::normalized)
        .collect();
    tenant
}

/// The ids of the journaled runs of a project (`stateDir` `.sharedbox/`).
pub fn run_ids(project: &Project) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(project.path().join(".sharedbox/runs"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| Some(e.path().file_stem()?.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The one run that `action` journals.
pub fn new_run(project: &Project, action: impl FnOnce()) -> String {
    let before = run_ids(project);
    action();
    let mut new: Vec<String> = run_ids(project).difference(&before).cloned().collect();
    assert_eq!(new.len(), 1, "expected one new run, got {new:?}");
    new.remove(0)
}

/// Runs sharedbox with `args` against the simulator `sim` as the Exchange Online tenant
/// `contoso.onmicrosoft.com`, with the bearer token `token`.
pub fn exo_as(
    project: &Project,
    sim: &sharedbox_exo_sim::SimHandle,
    token: &str,
    args: &[&str],
) -> Run {
    let mut all = vec!["--tenant", "exo:contoso.onmicrosoft.com"];
    all.extend_from_slice(args);
    run_with_env(
        project.path(),
        &all,
        &[
            ("SHAREDBOX_EXO_ENDPOINT", &sim.base_url()),
            ("SHAREDBOX_ACCESS_TOKEN", token),
        ],
    )
}

/// [`exo_as`] with the token every simulator accepts.
pub fn exo(project: &Project, sim: &sharedbox_exo_sim::SimHandle, args: &[&str]) -> Run {
    exo_as(project, sim, "sim-token-7f3a", args)
}
