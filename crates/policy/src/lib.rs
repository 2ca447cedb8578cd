//! Desired state: sharedbox policy documents, from YAML to a validated [`PolicySet`].
//!
//! - [`document`]: the documents as written (serde, JSON Schema);
//! - [`load`]: reading a folder strictly, with every error located (file:line:column);
//! - [`lint`]: the lint catalog (`SBX…` codes, `sharedbox explain`) and the offline lints;
//! - [`model`]: the validated set the planner consumes, with `Defaults` merged in;
//! - [`diagnostic`] and [`source`]: located values and compiler-style diagnostics;
//! - [`files`]: which files may be read (regular files inside the project, bounded);
//! - [`redact`]: secrets masked in every excerpt and message;
//! - [`suggest`]: "did you mean …?" for misspelt names.
//!
//! Nothing here touches the network.

pub mod diagnostic;
pub mod document;
pub mod files;
pub mod lint;
pub mod load;
pub mod model;
mod parse_error;
pub mod redact;
pub mod source;
pub mod suggest;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use lint::{LINTS, Level, Lint, LintCode, LintLevels, lint_policies, lint_policies_with};
pub use load::{
    ignored_files, load_dir, load_dir_with_baseline, load_layered, load_sources, parse_yaml,
};
pub use model::*;
pub use source::{Excerpt, Located, Origin, Source};

/// The JSON Schema (draft-07) of policy documents, pretty-printed with a trailing newline.
pub fn schema_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&document::json_schema()).expect("a schema serialises");
    text.push('\n');
    text
}
