//! `sharedbox unlock TENANT [--force]`: shows who holds a tenant's lock and, with `--force`,
//! breaks it (a lock left by a runner that died: a lease in the `azure-blob` store, a lock
//! file on another host).

use super::state_store;
use crate::config::RunConfig;
use crate::output::{ExitStatus, Failure};

/// `sharedbox unlock TENANT [--force]`.
pub fn unlock(config: &RunConfig, tenant: &str, force: bool) -> anyhow::Result<ExitStatus> {
    let store = state_store(config)?;
    let store_error = |e: sharedbox_applier::LockError| -> anyhow::Error {
        Failure::new(e.to_string())
            .hint("check `state` in `sharedbox.yaml` and the network; nothing was changed")
            .into()
    };
    let holder = tokio::task::block_in_place(|| store.holder(tenant)).map_err(store_error)?;
    let Some(holder) = holder else {
        outln!("Tenant `{tenant}` is not locked.");
        return Ok(ExitStatus::Success);
    };
    let ci = holder
        .actor
        .ci
        .as_deref()
        .map(|ci| format!(", {}", sharedbox_applier::printable(ci, 120)))
        .unwrap_or_default();
    let held_by = format!(
        "run `{}` ({} by {}@{} pid {}{ci} since {})",
        sharedbox_applier::printable(&holder.run_id, 60),
        sharedbox_applier::printable(&holder.operation, 20),
        sharedbox_applier::printable(&holder.actor.user, 60),
        sharedbox_applier::printable(&holder.actor.host, 120),
        holder.actor.pid,
        sharedbox_applier::printable(&holder.since, 40)
    );
    outln!("Tenant `{tenant}` is locked by {held_by}.");
    if !force {
        return Err(Failure::new(format!("not unlocking `{tenant}` without `--force`"))
            .hint(format!("make sure that run is no longer running (its CI job, its host), then run `sharedbox unlock {tenant} --force`; afterwards `sharedbox runs show {}` tells what it did and `sharedbox rollback` undoes it", sharedbox_applier::printable(&holder.run_id, 60)))
            .into());
    }
    let broken = tokio::task::block_in_place(|| store.break_lock(tenant)).map_err(store_error)?;
    match broken {
        Some(_) => outln!(
            "Unlocked `{tenant}`. If run `{}` is still running, it stops before its next write.",
            sharedbox_applier::printable(&holder.run_id, 60)
        ),
        None => outln!("Tenant `{tenant}` was released meanwhile."),
    }
    Ok(ExitStatus::Success)
}
