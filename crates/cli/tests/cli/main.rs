//! The end-to-end tests of the `sharedbox` binary, in one test binary (each integration
//! test file would be its own binary, linking the whole dependency graph again). Each
//! module is one area; `common` holds the project and runner helpers. `tests/chaos.rs`
//! stays a binary of its own: it is timing-sensitive, kills processes and must not run
//! concurrently with these tests.

mod common;

mod access;
mod adoption;
mod aliases;
mod auto_reply;
mod demo;
mod examples;
mod exo;
mod fail_fast;
mod fleet;
mod folders;
mod formats;
mod forwarding;
mod heal;
mod hostile_repository;
mod messages;
mod plan_apply;
mod principals;
mod progress;
mod rollback_bookkeeping;
mod root_visibility;
mod runs_history;
mod safe_apply;
mod saved_plans;
mod secrets;
mod state_config;
mod text_output;
mod trace;
mod validate;
