//! Which live object each policy names: a policy's `mailbox:` is resolved through the
//! directory, never trusted as written.
//!
//! Exchange accepts any proxy address as an identity, so a policy keyed by an alias would
//! otherwise act on the real mailbox under another name: a second policy for the same
//! mailbox, grants flipping between the two, or `ensure: absent` deleting a mailbox whose
//! own policy says `preventDestroy`. And a policy for an address that belongs to a user
//! mailbox, a group or a contact would plan a `New-Mailbox` that fails half-way through an
//! apply. All of these are errors at plan time, located at the policy's `mailbox:`.

use std::collections::HashMap;

use sharedbox_policy::{Diagnostic, Located, PolicySet};
use sharedbox_tenant::{PrincipalId, Snapshot};

/// `RecipientTypeDetails` of a shared mailbox.
const SHARED_MAILBOX: &str = "SharedMailbox";

/// Checks that every mailbox policy names a shared mailbox by its primary SMTP address (or
/// an address no recipient has, to be created), and that no two policies name the same
/// mailbox; pushes an error for each that does not.
pub fn check_mailbox_addresses(
    policies: &PolicySet,
    snapshot: &Snapshot,
    errors: &mut Vec<Diagnostic>,
) {
    let mut claimed: HashMap<PrincipalId, &Located<String>> = HashMap::new();
    for policy in &policies.mailboxes {
        let address = &policy.address;
        let Some(recipient) = snapshot.directory.resolve_policy(&address.value) else {
            continue; // a new mailbox
        };
        if recipient.recipient_type_details != SHARED_MAILBOX {
            errors.push(
                Diagnostic::error(
                    "plan::not-a-shared-mailbox",
                    format!(
                        "`{}` belongs to {} `{}` ({}), not to a shared mailbox",
                        address.value,
                        kind_of(&recipient.recipient_type_details),
                        recipient.display_name,
                        recipient.recipient_type_details
                    ),
                    Some(address.origin.clone()),
                )
                .with_label("this address is taken")
                .with_hint("sharedbox manages shared mailboxes only; pick an address no recipient uses, or convert the mailbox to a shared one first (`Set-Mailbox -Type Shared`)"),
            );
            continue;
        }
        if !recipient
            .primary_smtp_address
            .eq_ignore_ascii_case(&address.value)
        {
            errors.push(
                Diagnostic::error(
                    "plan::mailbox-alias",
                    format!(
                        "`{}` is an alias of the shared mailbox `{}`, not its primary address",
                        address.value, recipient.primary_smtp_address
                    ),
                    Some(address.origin.clone()),
                )
                .with_label("a secondary (proxy) address")
                .with_hint(format!(
                    "key the policy by the primary SMTP address: `mailbox: {}`",
                    recipient.primary_smtp_address
                )),
            );
        }
        let id = PrincipalId::of(recipient);
        if let Some(first) = claimed.get(&id) {
            errors.push(
                Diagnostic::error(
                    "plan::mailbox-twice",
                    format!(
                        "`{}` and `{}` ({}) are the same mailbox `{}`",
                        address.value, first.value, first.origin, recipient.primary_smtp_address
                    ),
                    Some(address.origin.clone()),
                )
                .with_label("second policy for this mailbox")
                .with_hint("one mailbox has one policy; merge the two documents"),
            );
        } else {
            claimed.insert(id, address);
        }
    }
}

/// A recipient type in words: `a user mailbox`, `a group`, ...
fn kind_of(recipient_type_details: &str) -> &'static str {
    match recipient_type_details {
        "UserMailbox" => "the user mailbox",
        "RoomMailbox" | "EquipmentMailbox" => "the resource mailbox",
        "MailContact" | "MailUser" | "GuestMailUser" => "the contact or mail user",
        t if t.contains("Group") => "the group",
        _ => "the recipient",
    }
}
