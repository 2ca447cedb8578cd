//! Faults, auth, RBAC, `$batch` and counters.

use serde_json::{Value, json};
use sharedbox_exo_sim::{Role, SimConfig};

use crate::{TENANT, TOKEN, body, client, invoke, post, start};

#[tokio::test]
async fn beyond_the_concurrency_limit_the_answer_is_429_with_retry_after() {
    let sim = start(SimConfig {
        concurrency_limit: Some(1),
        latency_ms: 400,
        retry_after_secs: 3,
        ..SimConfig::default()
    });
    let client = client();
    let url = sim.invoke_url(TENANT);
    let request = body("Get-OrganizationConfig", Value::Null);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (client, url, request) = (client.clone(), url.clone(), request.clone());
        set.spawn(async move {
            post(&client, &url, Some(TOKEN), &[], &request)
                .await
                .unwrap()
        });
    }
    let replies = set.join_all().await;
    let throttled: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    let answered = replies.iter().filter(|r| r.status == 200).count();
    // With one slot and 400 ms per request, at least one of four simultaneous requests
    // is refused (normally three; a slow scheduler may let one in after the first).
    assert!(
        answered >= 1 && !throttled.is_empty(),
        "{answered} answered"
    );
    assert_eq!(answered + throttled.len(), 4);
    for reply in &throttled {
        assert_eq!(reply.header("retry-after"), Some("3"));
        assert_eq!(
            String::from_utf8_lossy(&reply.raw),
            "You have reached the maximum number of concurrent requests per tenant. Please wait and try again"
        );
    }
    assert_eq!(sim.counters().throttled, throttled.len() as u64);
    // The slot is free again once the request is answered.
    assert_eq!(
        invoke(&sim, "Get-OrganizationConfig", Value::Null)
            .await
            .status,
        200
    );
}

async fn statuses(seed: u64) -> (Vec<u16>, u64) {
    let sim = start(SimConfig {
        unavailable_rate: 0.3,
        seed,
        ..SimConfig::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let reply = invoke(&sim, "Get-OrganizationConfig", Value::Null).await;
        if reply.status == 503 {
            assert_eq!(reply.json["error"]["code"], "ServiceUnavailable");
        }
        statuses.push(reply.status.as_u16());
    }
    (statuses, sim.counters().unavailable)
}

#[tokio::test]
async fn seeded_503s_are_reproducible() {
    let (first, count) = statuses(42).await;
    let (second, _) = statuses(42).await;
    let (other, _) = statuses(43).await;
    assert_eq!(first, second);
    assert_ne!(first, other);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
    assert_eq!(count, first.iter().filter(|s| **s == 503).count() as u64);
}

#[tokio::test]
async fn tokens_are_required_and_expired_ones_refused() {
    let sim = start(SimConfig::default());
    let client = client();
    let url = sim.invoke_url(TENANT);
    let request = body("Get-Mailbox", json!({}));
    for token in [None, Some(""), Some("expired-token")] {
        let reply = post(&client, &url, token, &[], &request).await.unwrap();
        assert_eq!(reply.status, 401, "{token:?}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer "))
        );
    }
    assert_eq!(sim.counters().unauthorized, 3);
    assert_eq!(
        sim.counters().cmdlet("Get-Mailbox"),
        0,
        "refused before the body is read"
    );
}

#[tokio::test]
async fn rbac_refuses_cmdlets_outside_the_role() {
    let sim = start(SimConfig {
        roles: vec![Role::parse("reader=Get-*").unwrap()],
        ..SimConfig::default()
    });
    let client = client();
    let url = sim.invoke_url(TENANT);
    let set = body(
        "Set-Mailbox",
        json!({"Identity": "support@fabrikam.com", "HiddenFromAddressListsEnabled": true}),
    );
    let refused = post(&client, &url, Some("reader-42"), &[], &set)
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json["error"]["code"], "Forbidden");
    assert!(
        refused
            .detail()
            .contains("is not present in the role definition of the current user"),
        "{}",
        refused.detail()
    );
    let read = post(
        &client,
        &url,
        Some("reader-42"),
        &[],
        &body("Get-Mailbox", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(read.status, 200);
    let admin = post(&client, &url, Some("admin"), &[], &set).await.unwrap();
    assert_eq!(admin.status, 200);
    assert_eq!(sim.counters().forbidden, 1);
    let module = client
        .get(format!(
            "{}/adminapi/v1.0/{TENANT}/EXOModuleFile",
            sim.base_url()
        ))
        .header("Authorization", "Bearer reader-1")
        .send()
        .await
        .unwrap();
    let module: Value = serde_json::from_slice(&module.bytes().await.unwrap()).unwrap();
    let exported = module["value"][0]["exportedCmdlets"].as_str().unwrap();
    assert!(
        exported.contains("Get-Mailbox") && !exported.contains("Set-Mailbox"),
        "{exported}"
    );
}

fn sub(id: &str, base: &str, cmdlet: &str, parameters: Value) -> Value {
    json!({
        "id": id,
        "method": "POST",
        "url": format!("{base}/adminapi/beta/{TENANT}/InvokeCommand?$select=Identity,PrimarySmtpAddress,User,Trustee"),
        "headers": {"Authorization": "Bearer x", "parameter-based-routing": true, "X-CmdletName": cmdlet},
        "body": body(cmdlet, parameters),
    })
}

#[tokio::test]
async fn batch_answers_out_of_order_by_id_and_refuses_more_than_ten() {
    let sim = start(SimConfig::default());
    let base = sim.base_url();
    let targets = [
        "support@fabrikam.com",
        "buchhaltung@fabrikam.com",
        "anna@fabrikam.com",
        "nobody@fabrikam.com",
        "ben@fabrikam.com",
    ];
    let mut requests = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        requests.push(sub(
            &format!("m{i}"),
            &base,
            "Get-Mailbox",
            json!({"Identity": target}),
        ));
        requests.push(sub(
            &format!("p{i}"),
            &base,
            "Get-RecipientPermission",
            json!({"Identity": target}),
        ));
    }
    let reply = post(
        &client(),
        &sim.batch_url(TENANT),
        Some(TOKEN),
        &[("Prefer", "odata.maxpagesize = 1000;odata.continue-on-error")],
        &json!({"requests": requests}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200);
    let responses = reply.json["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 10);
    let ids: Vec<&str> = responses
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let sent: Vec<String> = requests
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_ne!(ids, sent, "not in request order");
    for response in responses {
        let id = response["id"].as_str().unwrap();
        let index: usize = id[1..].parse().unwrap();
        let target = targets[index];
        if target == "nobody@fabrikam.com" {
            assert_eq!(response["status"], 404, "{id}");
            assert!(
                response["body"]["error"]["details"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("ManagementObjectNotFoundException")
            );
            continue;
        }
        assert_eq!(response["status"], 200, "{id}: {response}");
        let value = response["body"]["value"].as_array().unwrap();
        if id.starts_with('m') {
            assert_eq!(value[0]["PrimarySmtpAddress"], target, "{id}");
            assert!(value[0].get("DisplayName").is_none(), "$select applies");
        } else {
            let mailbox = sim
                .tenant()
                .mailboxes
                .iter()
                .find(|m| m.primary_smtp_address == target)
                .map(|m| m.recipient_permissions.len())
                .unwrap_or(0);
            assert_eq!(value.len(), mailbox, "{id}");
        }
    }
    let counters = sim.counters();
    assert_eq!(counters.batch_subrequests, 10);
    assert_eq!(counters.cmdlet("Get-Mailbox"), 5);

    requests.push(sub("extra", &base, "Get-Mailbox", json!({})));
    let refused = post(
        &client(),
        &sim.batch_url(TENANT),
        Some(TOKEN),
        &[],
        &json!({"requests": requests}),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 400);
    assert!(
        refused.detail().contains("maximum is 10"),
        "{}",
        refused.detail()
    );
    assert_eq!(
        sim.counters().batch_subrequests,
        10,
        "nothing of a refused batch runs"
    );
    assert_eq!(sim.counters().batches, 2);
}

#[tokio::test]
async fn paging_inside_a_batch_continues_at_the_next_link() {
    let sim = start(SimConfig::default());
    let base = sim.base_url();
    let request = json!({
        "id": "0", "method": "POST",
        "url": format!("{base}/adminapi/beta/{TENANT}/InvokeCommand"),
        "headers": {"Prefer": "odata.maxpagesize=3"},
        "body": body("Get-Recipient", json!({"ResultSize": "Unlimited"})),
    });
    let mut names = Vec::new();
    let mut next_request = request.clone();
    loop {
        let reply = post(
            &client(),
            &sim.batch_url(TENANT),
            Some(TOKEN),
            &[],
            &json!({"requests": [next_request.clone()]}),
        )
        .await
        .unwrap();
        let sub = &reply.json["responses"][0];
        assert_eq!(sub["status"], 200, "{sub}");
        names.extend(
            sub["body"]["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["Name"].clone()),
        );
        match sub["body"]["@odata.nextLink"].as_str() {
            Some(next) => next_request["url"] = Value::String(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(names.len(), 8);
    assert_eq!(sim.counters().batch_subrequests, 3);
}

#[tokio::test]
async fn dropped_connections_close_without_a_response() {
    let sim = start(SimConfig {
        drop_rate: 1.0,
        ..SimConfig::default()
    });
    let client = client();
    let result = post(
        &client,
        &sim.invoke_url(TENANT),
        Some(TOKEN),
        &[],
        &body("Get-Mailbox", json!({})),
    )
    .await;
    let error = result.err().expect("no response");
    assert!(!error.is_timeout(), "closed, not timed out: {error}");
    assert_eq!(sim.counters().dropped, 1);

    // Turn it off at runtime.
    let config = client
        .post(format!("{}/sim/config", sim.base_url()))
        .body(r#"{"dropRate": 0.0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
    assert_eq!(sim.config().drop_rate, 0.0);
    let ok = post(
        &client,
        &sim.invoke_url(TENANT),
        Some(TOKEN),
        &[],
        &body("Get-Mailbox", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn counters_count_what_was_sent() {
    let sim = start(SimConfig::default());
    for _ in 0..3 {
        invoke(
            &sim,
            "Get-Mailbox",
            json!({"Identity": "support@fabrikam.com"}),
        )
        .await;
    }
    invoke(
        &sim,
        "set-mailbox",
        json!({"Identity": "support@fabrikam.com", "DisplayName": "Support Desk"}),
    )
    .await;
    invoke(
        &sim,
        "Set-Mailbox",
        json!({"Identity": "nobody@fabrikam.com", "DisplayName": "x"}),
    )
    .await;
    let base = sim.base_url();
    let requests = json!({"requests": [
        sub("a", &base, "Get-Recipient", json!({})),
        sub("b", &base, "Get-Recipient", json!({"Identity": "anna@fabrikam.com"})),
    ]});
    post(
        &client(),
        &sim.batch_url(TENANT),
        Some(TOKEN),
        &[],
        &requests,
    )
    .await
    .unwrap();

    let counters = sim.counters();
    assert_eq!(counters.http_requests, 6);
    assert_eq!(counters.cmdlet("Get-Mailbox"), 3);
    assert_eq!(
        counters.cmdlet("Set-Mailbox"),
        2,
        "canonical name, whatever the case sent"
    );
    assert_eq!(counters.writes.get("Set-Mailbox"), Some(&2));
    assert_eq!(counters.total_writes(), 2);
    assert_eq!(counters.tenant_changes, 1);
    assert_eq!(counters.cmdlet_errors, 1);
    assert_eq!(counters.cmdlet("Get-Recipient"), 2);
    assert_eq!((counters.batches, counters.batch_subrequests), (1, 2));

    let over_http: sharedbox_exo_sim::Counters = serde_json::from_slice(
        &client()
            .get(format!("{}/sim/counters", sim.base_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(over_http, counters);
    sim.reset_counters();
    assert_eq!(sim.counters(), sharedbox_exo_sim::Counters::default());
}

#[tokio::test]
async fn a_missing_anchor_is_refused_only_when_configured() {
    let sim = start(SimConfig {
        require_anchor_mailbox: true,
        ..SimConfig::default()
    });
    let client = client();
    let url = sim.invoke_url(TENANT);
    let request = body(
        "Get-MailboxPermission",
        json!({"Identity": "support@fabrikam.com"}),
    );
    let refused = post(&client, &url, Some(TOKEN), &[], &request)
        .await
        .unwrap();
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .detail()
            .contains("CmdletProxyNotAvailableException")
    );
    let anchored = [("X-AnchorMailbox", "UPN:support@fabrikam.com")];
    let ok = post(&client, &url, Some(TOKEN), &anchored, &request)
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    let org = post(
        &client,
        &url,
        Some(TOKEN),
        &[],
        &body("Get-OrganizationConfig", Value::Null),
    )
    .await
    .unwrap();
    assert_eq!(org.status, 200, "org-level cmdlets need no anchor");
}

#[tokio::test]
async fn the_binary_serves_a_tenant_file_on_loopback() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sharedbox-sim"))
        .args([
            "--tenant",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tenant.yaml"),
        ])
        .args(["--listen", "127.0.0.1:0", "--role", "reader=Get-*"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let url = format!("{base}/adminapi/beta/{TENANT}/InvokeCommand");
    let read = post(
        &client(),
        &url,
        Some("reader-1"),
        &[],
        &body("Get-Mailbox", json!({"Identity": "support"})),
    )
    .await;
    let write = post(
        &client(),
        &url,
        Some("reader-1"),
        &[],
        &body("Remove-Mailbox", json!({"Identity": "support"})),
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(read.unwrap().status, 200);
    assert_eq!(write.unwrap().status, 403);
}
