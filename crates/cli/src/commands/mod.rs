//! The subcommands, and what they share: loading policies, opening the tenant, reading it.

mod access;
mod apply;
mod doctor;
mod drift;
mod explain;
mod export;
mod fleet;
mod heal;
mod plan;
mod runs;
mod unlock;

pub use access::access;
pub use apply::apply;
pub use doctor::doctor;
pub use drift::drift;
pub use explain::{explain, profiles};
pub use export::export;
pub use fleet::{fan_out, tenants};
pub use plan::{plan, print_validate_document, show, validate};
pub use runs::{rollback, runs, runs_show};
pub use unlock::unlock;

use std::io::IsTerminal;
use std::path::Path;

use sharedbox_applier::{Actor, LocalState, LockError, LockGuard, LockInfo, StateStore};
use sharedbox_file::FileTenant;
use sharedbox_planner::{Plan, PlanOptions};
use sharedbox_policy::{LintLevels, PolicySet};
use sharedbox_tenant::{ReadScope, Snapshot, Tenant};

use std::sync::Arc;

use sharedbox_exo::auth::{StaticToken, TokenSource};
use sharedbox_exo::{ClientOptions, ExoTenant};

use crate::config::{ExoSpec, RunConfig, TenantSpec};
use crate::output::{
    Failure, blank_line, detail, hint_of, plural, print_diagnostics, progress, prompt, remark,
    warning,
};

/// Names, in one note on stderr, the files of the policy folder that are not read but look
/// as if they were meant as policies (hidden, backups); nothing when there are none.
fn note_ignored_files(policies: &Path) {
    /// The most files named; the rest are counted.
    const SHOWN: usize = 10;
    let ignored = sharedbox_policy::ignored_files(policies);
    if ignored.is_empty() {
        return;
    }
    let mut names: Vec<String> = ignored
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{}`", p.strip_prefix(policies).unwrap_or(p).display()))
        .collect();
    if ignored.len() > SHOWN {
        names.push(format!("and {} more", ignored.len() - SHOWN));
    }
    remark(&format!(
        "not read from `{}`: {} (hidden files and names not ending in `.yaml` or `.yml` are skipped)",
        policies.display(),
        names.join(", ")
    ));
}

/// Loads the policies, printing every diagnostic; fails when any is an error.
fn load_policies(config: &RunConfig) -> anyhow::Result<PolicySet> {
    note_ignored_files(&config.policies);
    match config.load_policy_set() {
        Ok(set) => Ok(set),
        Err(diagnostics) => {
            print_diagnostics(&diagnostics.0);
            let errors = diagnostics.errors().count();
            Err(Failure::new(format!("{errors} error{} in the policies under `{}`", plural(errors), config.policies.display()))
                .hint("fix the errors above; `sharedbox validate` checks policies without reading the tenant")
                .into())
        }
    }
}

/// Opens the configured tenant.
fn open_tenant(config: &RunConfig) -> anyhow::Result<Box<dyn Tenant>> {
    Ok(crate::progress::Reporting::wrap(open_backend(config)?))
}

/// Opens the configured backend.
fn open_backend(config: &RunConfig) -> anyhow::Result<Box<dyn Tenant>> {
    match config.tenant()? {
        TenantSpec::File(path) => {
            // The file is read once here, off the async workers.
            let tenant = tokio::task::block_in_place(|| FileTenant::open(path)).map_err(|e| {
                let hint = hint_of(&e).or_else(|| {
                    Some(
                        "check `tenant.path` in `sharedbox.yaml` or `--tenant file:PATH`"
                            .to_owned(),
                    )
                });
                Failure::new(e.to_string()).maybe_hint(hint)
            })?;
            Ok(Box::new(tenant))
        }
        TenantSpec::Exo(spec) => Ok(Box::new(open_exo(spec)?)),
    }
}

/// The kind of the configured backend, as journals record it: `file` or `exchange-online`.
fn backend_kind(config: &RunConfig) -> anyhow::Result<&'static str> {
    Ok(match config.tenant()? {
        TenantSpec::File(_) => "file",
        TenantSpec::Exo(_) => "exchange-online",
    })
}

/// Connects to Exchange Online: the endpoint from `SHAREDBOX_EXO_ENDPOINT`, `tenant.endpoint`
/// or the cloud; the token from `SHAREDBOX_ACCESS_TOKEN` or `tenant.auth`.
fn open_exo(spec: &ExoSpec) -> anyhow::Result<ExoTenant> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // The environment is the pipeline's choice; `tenant.endpoint` is repository content that
    // a pull request can change, so it may only name Exchange Online itself (or loopback).
    let endpoint = match (from_env(sharedbox_exo::ENDPOINT_VARIABLE), &spec.endpoint) {
        (Some(endpoint), _) => endpoint,
        (None, Some(endpoint)) if !sharedbox_exo::cloud::is_service_endpoint(endpoint) => {
            return Err(Failure::new(format!(
                "refusing `tenant.endpoint: {endpoint}` from `sharedbox.yaml`: tokens are sent only to Exchange Online's own hosts or to a loopback address"
            ))
            .hint(format!(
                "`sharedbox.yaml` is repository content that a pull request can change; to use another host deliberately, set `{}` in the pipeline",
                sharedbox_exo::ENDPOINT_VARIABLE
            ))
            .into());
        }
        (None, Some(endpoint)) => endpoint.clone(),
        (None, None) => spec.cloud.base_url().to_owned(),
    };
    let tokens: Arc<dyn TokenSource> = match (from_env("SHAREDBOX_ACCESS_TOKEN"), &spec.auth) {
        (Some(token), _) => Arc::new(StaticToken::new(token.trim())),
        (None, Some(auth)) => sharedbox_exo::auth::token_source(auth, &spec.tenant, spec.cloud)
            .map_err(|e| {
                Failure::new(format!("cannot set up authentication: {}", e.message))
                    .maybe_hint(hint_of(&e))
            })?,
        (None, None) => {
            return Err(Failure::new(format!("no credentials for tenant `{}`", spec.tenant))
                .hint("set `tenant.auth` in `sharedbox.yaml` (see docs/exchange-online.md), or `SHAREDBOX_ACCESS_TOKEN`")
                .into());
        }
    };
    let mut options = ClientOptions::default();
    if let Some(n) = spec.concurrency {
        options.max_concurrency = n.max(1);
        options.initial_concurrency = options.initial_concurrency.min(options.max_concurrency);
    }
    ExoTenant::new(&endpoint, &spec.tenant, tokens, options).map_err(|e| Failure::of(&e).into())
}

/// Reads `scope` from the tenant.
async fn read(tenant: &dyn Tenant, scope: &ReadScope) -> anyhow::Result<Snapshot> {
    progress(&format!(
        "reading tenant `{}` ({} mailboxes in scope)...",
        tenant.name(),
        scope.mailboxes.len()
    ));
    Ok(tenant.read(scope).await.map_err(|e| {
        Failure::new(format!("cannot read the tenant: {e}")).maybe_hint(hint_of(&e))
    })?)
}

/// The read scope of a policy set: every managed mailbox, and the root folder of each whose
/// policy manages `sentItemsReaders` (read whatever Sent Items holds when it declares a
/// reader: the plan grants `FolderVisible` there).
fn policy_scope(policies: &PolicySet) -> ReadScope {
    policies.read_scope()
}

/// Computes the plan, printing warnings, or every error. With `lints`, the offline and
/// tenant-aware lints run too (at the levels of `sharedbox.yaml`), are printed and become
/// part of the plan's warnings; an error-level finding fails the plan.
fn make_plan(
    policies: &PolicySet,
    snapshot: &Snapshot,
    targets: &[String],
    lints: Option<&LintLevels>,
    base: Option<Arc<PolicySet>>,
) -> anyhow::Result<Plan> {
    if !targets.is_empty() {
        warning(&format!(
            "targeting is in effect: only {} will be planned",
            targets.join(", ")
        ));
        detail(
            "warning",
            "  targeting is for exceptional cases such as recovering from mistakes, not for routine use",
        );
        blank_line();
    }
    let mut plan = match sharedbox_planner::plan(
        policies,
        snapshot,
        &PlanOptions {
            targets: targets.to_vec(),
            base,
        },
    ) {
        Ok(plan) => {
            print_diagnostics(&plan.warnings);
            plan
        }
        Err(error) => {
            print_diagnostics(&error.0);
            return Err(Failure::new(format!(
                "the plan could not be made: {} error{}",
                error.0.len(),
                plural(error.0.len())
            ))
            .hint("nothing was changed; fix the errors above and run `sharedbox plan` again")
            .into());
        }
    };
    if let Some(levels) = lints {
        let findings = sharedbox_planner::lint_plan(&policies.targeted(targets), snapshot, levels);
        plan.warnings.extend(report_lints(findings)?);
    }
    Ok(plan)
}

/// Prints lint findings; fails when one is an error.
fn report_lints(
    findings: Vec<sharedbox_policy::Diagnostic>,
) -> anyhow::Result<Vec<sharedbox_policy::Diagnostic>> {
    print_diagnostics(&findings);
    let errors = findings.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        return Err(Failure::new(format!(
            "{errors} lint error{} in the policies",
            plural(errors)
        ))
        .hint("nothing was changed; fix them, or change their level under `lints:` in `sharedbox.yaml`; `sharedbox explain CODE` says why each matters")
        .into());
    }
    Ok(findings)
}

/// The environment variable of a SAS token for the `azure-blob` state store.
pub const STATE_SAS_VARIABLE: &str = "SHAREDBOX_STATE_SAS_TOKEN";

/// Where runs and locks are kept: `stateDir`, or the configured remote store, reached with
/// `SHAREDBOX_STATE_SAS_TOKEN` when it is set, else with the Exchange tenant's credential
/// (`tenant.auth`).
fn state_store(config: &RunConfig) -> anyhow::Result<Arc<dyn StateStore>> {
    let azure = match &config.state {
        crate::config::StateSpec::Local => {
            return Ok(Arc::new(LocalState::new(&config.state_dir)));
        }
        crate::config::StateSpec::AzureBlob(azure) => azure,
    };
    let auth = match sharedbox_exo::auth::config::process_env(STATE_SAS_VARIABLE) {
        Some(sas) => sharedbox_state_azure::Auth::Sas(sas.trim().to_owned()),
        None => {
            let exo = match &config.tenant {
                Some(TenantSpec::Exo(exo)) if exo.auth.is_some() => exo,
                _ => {
                    return Err(Failure::new("the `azure-blob` state store has no credential")
                        .hint(format!("it uses the identity of `tenant.auth` (an `exchange-online` tenant), which needs the role `Storage Blob Data Contributor` on the container; or export `{STATE_SAS_VARIABLE}` with a SAS token"))
                        .into());
                }
            };
            let auth = exo.auth.as_ref().expect("checked above");
            let credential = sharedbox_exo::auth::config::credential(auth, &exo.tenant, exo.cloud)
                .map_err(|e| {
                    Failure::new(format!("state store credential: {e}"))
                        .hint(hint_of(&e).unwrap_or_default())
                })?;
            sharedbox_state_azure::Auth::Credential(credential)
        }
    };
    let store = sharedbox_state_azure::AzureBlobState::new(azure, auth)
        .map_err(|e| Failure::new(e.message).hint(e.hint))?;
    Ok(Arc::new(store))
}

/// Takes the tenant's lock for `run_id`.
fn lock(
    store: &dyn StateStore,
    tenant: &str,
    run_id: &str,
    operation: &str,
    timeout: std::time::Duration,
) -> anyhow::Result<LockGuard> {
    let info = LockInfo {
        run_id: run_id.to_owned(),
        operation: operation.to_owned(),
        actor: Actor::current(),
        since: sharedbox_applier::now_rfc3339(),
    };
    // Waiting for a lock sleeps between tries: off the async workers.
    tokio::task::block_in_place(|| store.acquire(tenant, &info, timeout)).map_err(|e| {
        let hint = match &e {
            LockError::Held { .. } => "wait for the other run to finish, or pass `--lock-timeout 5m` to wait; a lock of a process that died on this host is taken over automatically, any other with `sharedbox unlock TENANT --force` once its holder is known to be gone",
            LockError::StateDir { .. } | LockError::Io { .. } => "check `stateDir` in `sharedbox.yaml`: it must be a writable directory (it is created only when its parent exists), shared by every machine that applies to this tenant",
            LockError::Store { .. } => "check `state` in `sharedbox.yaml`, the network, and the identity's role on the container (`Storage Blob Data Contributor`); nothing was changed",
        };
        Failure::new(e.to_string()).hint(hint).into()
    })
}

/// Asks for confirmation on a terminal; refuses when there is none. `command` is the verb
/// (`apply`, `rollback`), `invocation` the command line to run again with `--auto-approve`
/// (`rollback 20260101T…`: a hint names the run it needs).
fn confirm(question: &str, command: &str, invocation: &str) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(format!("refusing to {command} without confirmation: standard input is not a terminal"))
            .hint(format!("review what is shown above, then run `sharedbox {invocation} --auto-approve` in pipelines and scheduled jobs"))
            .into());
    }
    let answer = prompt(question)?;
    if answer.trim() != "yes" {
        return Err(Failure::new(format!("{command} cancelled"))
            .hint("nothing was changed")
            .into());
    }
    Ok(())
}

/// Prints a plan to stdout, coloured on a terminal.
fn print_plan(plan: &Plan) {
    out!(
        "{}",
        sharedbox_planner::render_text(
            plan,
            sharedbox_planner::Style {
                color: crate::output::stdout_color()
            }
        )
    );
}
