//! `autoReply`: what a policy maps to the six `Set-MailboxAutoReplyConfiguration`
//! parameters, and the located errors for schedules Exchange would not take.

use sharedbox_policy::{Diagnostics, PolicySet, Source, load_sources};
use sharedbox_tenant::{Property, Value};

fn load(kind: &str, body: &str) -> Result<PolicySet, Diagnostics> {
    let (name, head) = match kind {
        "Defaults" => ("defaults.yaml", "kind: Defaults\n".to_owned()),
        _ => (
            "info.yaml",
            "kind: SharedMailbox\nmailbox: info@contoso.com\n".to_owned(),
        ),
    };
    load_sources(vec![Source::new(
        name,
        format!("apiVersion: sharedbox/v1\n{head}{body}"),
    )])
}

fn settings(body: &str) -> Vec<(Property, Value)> {
    let set = load("SharedMailbox", body).unwrap_or_else(|e| panic!("{body}\n{e:?}"));
    set.mailboxes[0]
        .settings
        .iter()
        .map(|(p, v)| (*p, v.value.clone()))
        .collect()
}

/// The errors as `(code, line, column, message)`.
fn errors(kind: &str, body: &str) -> Vec<(&'static str, u32, u32, String)> {
    let error = load(kind, body).expect_err(body);
    error
        .errors()
        .map(|d| {
            let (line, column) = d.origin.as_ref().map_or((0, 0), |o| (o.line, o.column));
            (d.code, line, column, d.message.clone())
        })
        .collect()
}

fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

#[test]
fn auto_reply_maps_text_to_html_and_times_to_utc() {
    let got = settings(
        "autoReply:
  state: scheduled
  start: 2026-12-24T09:00:00+01:00
  end: \"2027-01-02T08:00:00Z\"
  internal: |
    Closed 24 Dec - 1 Jan.
    Urgent: <service@contoso.com> & \"Hotline\"
  external: We are closed.
  externalAudience: known
",
    );
    assert_eq!(
        got,
        [
            (Property::AutoReplyState, text("Scheduled")),
            (Property::AutoReplyStart, text("2026-12-24T08:00:00Z")),
            (Property::AutoReplyEnd, text("2027-01-02T08:00:00Z")),
            (
                Property::AutoReplyInternal,
                text(
                    "Closed 24 Dec - 1 Jan.<br>Urgent: &lt;service@contoso.com&gt; &amp; &quot;Hotline&quot;"
                )
            ),
            (Property::AutoReplyExternal, text("We are closed.")),
            (Property::AutoReplyExternalAudience, text("Known")),
        ]
    );
}

#[test]
fn keys_left_out_of_auto_reply_are_not_managed() {
    assert_eq!(
        settings("autoReply: {state: disabled}\n"),
        [(Property::AutoReplyState, text("Disabled"))]
    );
    assert_eq!(
        settings("autoReply: {internal: Back soon}\n"),
        [(Property::AutoReplyInternal, text("Back soon"))]
    );
    // An empty message clears it.
    assert_eq!(
        settings("autoReply: {state: enabled, external: \"\"}\n"),
        [
            (Property::AutoReplyState, text("Enabled")),
            (Property::AutoReplyExternal, text("")),
        ]
    );
    let set = load("SharedMailbox", "autoReply: {state: enabled}\n").unwrap();
    assert_eq!(
        set.read_scope().auto_replies,
        ["info@contoso.com"],
        "read where managed"
    );
    let set = load("SharedMailbox", "hiddenFromAddressLists: true\n").unwrap();
    assert!(
        set.read_scope().auto_replies.is_empty(),
        "not read where unmanaged"
    );
}

#[test]
fn a_schedule_exchange_would_not_take_is_an_error_at_its_line() {
    let found = errors(
        "SharedMailbox",
        "autoReply:\n  state: scheduled\n  start: 2026-12-24T09:00:00+01:00\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "policy::auto-reply-schedule");
    assert_eq!((found[0].1, found[0].2), (5, 10), "at the state");
    assert!(found[0].3.contains("needs `end`"), "{found:?}");

    let found = errors(
        "SharedMailbox",
        "autoReply:\n  state: scheduled\n  start: 2026-12-24T09:00:00+01:00\n  end: 2026-12-24T08:00:00Z\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "policy::auto-reply-schedule");
    assert_eq!(found[0].1, 7, "at `end`");
    assert!(found[0].3.contains("not after"), "{found:?}");

    let found = errors(
        "SharedMailbox",
        "autoReply:\n  state: enabled\n  end: 2026-12-24T08:00:00Z\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        ("policy::auto-reply-time-without-schedule", 6, 8)
    );

    // No offset, or no time at all.
    for bad in ["2026-12-24T09:00:00", "24.12.2026", "tomorrow"] {
        let found = errors(
            "SharedMailbox",
            &format!(
                "autoReply:\n  state: scheduled\n  start: \"{bad}\"\n  end: 2027-01-02T08:00:00Z\n"
            ),
        );
        assert_eq!(found.len(), 1, "{bad}: {found:?}");
        assert_eq!(
            (found[0].0, found[0].1),
            ("policy::invalid-auto-reply-time", 6)
        );
    }
}

#[test]
fn unknown_keys_and_words_are_refused_with_a_suggestion() {
    let found = errors(
        "SharedMailbox",
        "autoReply:\n  state: enabled\n  interal: Hi\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "policy::unknown-field");
    assert_eq!(found[0].1, 6);
    assert!(found[0].3.contains("did you mean `internal`?"), "{found:?}");
    let found = errors("SharedMailbox", "autoReply: {state: on}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, 4);
    let found = errors(
        "SharedMailbox",
        "autoReply: {state: enabled, externalAudience: everyone}\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn defaults_take_disabled_and_the_audience_only() {
    let set = load(
        "Defaults",
        "autoReply: {state: disabled, externalAudience: known}\n",
    )
    .unwrap();
    assert!(set.mailboxes.is_empty());
    for (body, key) in [
        ("autoReply: {internal: We are closed}\n", "internal"),
        ("autoReply: {state: enabled}\n", "state"),
    ] {
        let found = errors("Defaults", body);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "policy::auto-reply-in-defaults");
        assert!(
            found[0].3.contains(&format!("`autoReply.{key}`")),
            "{found:?}"
        );
        assert_eq!(found[0].1, 3);
    }
}
