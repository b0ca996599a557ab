//! End to end through the local stack: template.yaml deployed to a fresh moto on a random port,
//! the local host running the real function binaries, and every event path the template declares.
//!
//! Needs the function binaries (`cargo build --workspace --bins`, which `infra/dev test` runs
//! first) and the project's venv. The stack is deployed in `cn-north-1` (partition `aws-cn`),
//! where the platform runs.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{LocalHost, ORIGIN, REGION, aws, bin_dir, create_officer, now_unix};
use testkit::{Deploy, MotoServer, Stack};

/// An officer of the stack's table with a sign-in account (password changed, TOTP enrolled):
/// its id, user name, password and TOTP secret.
async fn officer_account(stack: &Stack) -> (String, &'static str, &'static str, String) {
    let (user, pw) = ("hz-handler", "Demo-Passw0rd-2026");
    let bureau = json!({
        "id": "land-330106", "name": "杭州市西湖区自然资源和规划局", "region": "杭州市西湖区",
        "level": "county", "kind": "land", "division": "330106", "city_direct": false,
    });
    let secret = create_officer(
        stack,
        bureau,
        "o-hz-handler",
        &[domain::Role::Handler],
        user,
        pw,
    )
    .await;
    ("o-hz-handler".to_owned(), user, pw, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_routes_reach_their_functions_behind_the_jwt_authorizer() {
    // Arrange
    let moto = MotoServer::start();
    let stack = Deploy::new(&moto.endpoint())
        .region(REGION)
        .param("PublicOrigin", ORIGIN)
        .run()
        .expect("deploy");
    let host = LocalHost::start(&stack, &bin_dir());
    let http = reqwest::Client::new();

    // Act + Assert: web serves the pages embedded in its binary
    let resp = http
        .get(format!("{}/h5/index.html", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.expect("body").contains("<html"));

    // intake answers its health route, with path parameters and query passed as API Gateway does
    let resp = http
        .get(format!("{}/api/reporter/health?x=1&x=2", host.api))
        .header("cookie", "a=1; b=2")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let inv = host
        .wait_invocation("IntakeFunction", "the health request", |_| true)
        .await;
    assert_eq!(inv["event"]["routeKey"], "ANY /api/reporter/{proxy+}");
    assert_eq!(inv["event"]["pathParameters"]["proxy"], "health");
    assert_eq!(inv["event"]["queryStringParameters"]["x"], "1,2");
    assert_eq!(inv["event"]["cookies"], json!(["a=1", "b=2"]));

    // the WeChat callback is its own function: an unsigned verification is refused there
    let resp = http
        .get(format!("{}/wechat/callback?echostr=x", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 400);
    let inv = host
        .wait_invocation("CallbackFunction", "the unsigned verification", |_| true)
        .await;
    assert_eq!(inv["event"]["routeKey"], "GET /wechat/callback");

    // officer routes: 401 without a token or with a forged one, the officer from the table with a platform token
    let resp = http
        .get(format!("{}/api/officer/me", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"message": "Unauthorized"})
    );
    let resp = http
        .get(format!("{}/api/officer/me", host.api))
        .bearer_auth("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 401);
    assert!(
        host.invocations("JudgmentFunction").await.is_empty(),
        "judgment never ran without a valid token"
    );

    // the platform's own issuer: sign in through the auth function (password + TOTP)
    let (sub, user, pw, secret) = officer_account(&stack).await;
    let now = now_unix();
    let code = auth::totp::code_at(&secret, u64::try_from(now).expect("t")).expect("code");
    let resp = http
        .post(format!("{}/auth/sign-in", host.api))
        .json(&json!({"username": user, "password": pw, "code": code}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("refresh cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    // the authorizer fetched the issuer's discovery document and JWKS (through the public
    // origin, which this host serves) and passes the token's claims to judgment
    let resp = http
        .get(format!("{}/api/officer/me", host.api))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    let status = resp.status();
    let me: Value = resp.json().await.expect("json");
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["bureau_id"], "land-330106",
        "the officer the table knows"
    );
    let inv = host
        .wait_invocation("JudgmentFunction", "the officer request", |_| true)
        .await;
    let claims = &inv["event"]["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["iss"], ORIGIN);
    assert_eq!(claims["aud"], "12336-officer-console");
    let seen = host.invocations("JudgmentFunction").await.len();

    // refused by the authorizer, judgment never runs: a token signed by another key (same kid),
    // one of the right key for another audience, an expired one
    let header: Value = {
        use base64::Engine;
        let h = token.split('.').next().expect("header");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .expect("b64"),
        )
        .expect("json")
    };
    let kid = header["kid"].as_str().expect("kid");
    let good = json!({"iss": ORIGIN, "sub": sub, "aud": "12336-officer-console", "iat": now, "exp": now + 600});
    let signer = auth::token::KmsSigner::new(
        aws_sdk_kms::Client::new(&aws(stack.endpoint()).await),
        stack.physical_id("OfficerSigningKey"),
    );
    let mut other_audience = good.clone();
    other_audience["aud"] = json!("another-app");
    let mut expired = good.clone();
    expired["exp"] = json!(now - 60);
    let other_key = aws_sdk_kms::Client::new(&aws(stack.endpoint()).await)
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .expect("another key");
    let other = auth::token::KmsSigner::new(
        aws_sdk_kms::Client::new(&aws(stack.endpoint()).await),
        other_key.key_metadata().expect("key").key_id(),
    );
    let refused_tokens = [
        (
            "another key",
            other.sign_with_kid(kid, &good).await.expect("sign"),
        ),
        (
            "another audience",
            signer.sign(&other_audience).await.expect("sign"),
        ),
        ("expired", signer.sign(&expired).await.expect("sign")),
    ];
    for (what, t) in &refused_tokens {
        let resp = http
            .get(format!("{}/api/officer/me", host.api))
            .bearer_auth(t)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 401, "{what}");
    }
    let control = signer.sign(&good).await.expect("sign");
    let resp = http
        .get(format!("{}/api/officer/me", host.api))
        .bearer_auth(&control)
        .send()
        .await
        .expect("get");
    assert_ne!(
        resp.status(),
        401,
        "the same claims with the right audience pass"
    );
    let _ = host
        .wait_invocation("JudgmentFunction", "the control request", |_| true)
        .await;
    assert_eq!(
        host.invocations("JudgmentFunction").await.len(),
        seen + 1,
        "judgment ran only for the valid token"
    );

    // the refresh cookie gives a new access token through the API
    let value = cookie.split(';').next().expect("cookie");
    let resp = http
        .post(format!("{}/auth/refresh", host.api))
        .header("cookie", value)
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), 200);

    // bad input gets API Gateway's answers
    let resp = http
        .get(format!("{}/no/such/route", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 404);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/reporter/upload", host.api))
        .body(vec![b'x'; 7 * 1024 * 1024])
        .send()
        .await
        .expect("the host answers before closing");
    assert_eq!(resp.status(), 413);
    let resp = http
        .post(format!("{}/api/reporter/echo", host.api))
        .header("content-type", "image/jpeg")
        .body(vec![0xff, 0xd8, 0xff])
        .send()
        .await
        .expect("post");
    assert_eq!(
        resp.status(),
        404,
        "intake's own 404 for an unknown reporter route"
    );
    let inv = host
        .wait_invocation("IntakeFunction", "a binary body", |i| {
            i["event"]["isBase64Encoded"] == true
        })
        .await;
    assert_eq!(inv["event"]["body"], "/9j/");

    // a cold start is reported once, with Lambda's REPORT line
    let output = host.output.lock().expect("lock").join("\n");
    assert!(
        output.contains("[WebFunction] REPORT RequestId:"),
        "{output}"
    );
    assert!(output.contains("Init Duration:"), "{output}");
    assert!(output.contains("Max Memory Used:"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_schedules_and_the_bucket_reach_their_functions() {
    // Arrange: short visibility and two receives, to see retries and the DLQ quickly
    let moto = MotoServer::start();
    let stack = Deploy::new(&moto.endpoint())
        .region(REGION)
        .param("QueueVisibilityTimeout", "1")
        .param("MaxReceiveCount", "2")
        .run()
        .expect("deploy");
    let host = LocalHost::start(&stack, &bin_dir());
    let aws = aws(stack.endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .build(),
    );
    let notices = stack.physical_id("NoticeQueue");
    let dlq = stack.physical_id("NoticeDeadLetterQueue");
    assert_eq!(host.alarm_state("NoticeDeadLetterAlarm").await, "OK");

    // Act: a notice, a message notify cannot read, an object stored in the bucket
    let good = sqs
        .send_message()
        .queue_url(&notices)
        .message_body(r#"{"notice_id":"n-1","clue_id":"c-1"}"#)
        .message_group_id("c-1")
        .send()
        .await
        .expect("send");
    let bad = sqs
        .send_message()
        .queue_url(&notices)
        .message_body("not a notice")
        .message_group_id("c-2")
        .send()
        .await
        .expect("send");
    s3.put_object()
        .bucket(stack.physical_id("AttachmentBucket"))
        .key("incoming/e2e-photo.jpg")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"\xff\xd8\xff",
        ))
        .send()
        .await
        .expect("put object");

    // Assert: the notice reached notify and was deleted
    let good_id = good.message_id.expect("id");
    let inv = host
        .wait_invocation("NotifyFunction", "the notice", |i| {
            i["event"]["Records"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["messageId"] == good_id.as_str()))
        })
        .await;
    assert_eq!(inv["outcome"], "ok");
    assert_eq!(inv["event"]["Records"][0]["eventSource"], "aws:sqs");

    // the unreadable message was reported as a batch item failure, retried, and moved to the DLQ
    let bad_id = bad.message_id.expect("id");
    let started = Instant::now();
    let moved = loop {
        let r = sqs
            .receive_message()
            .queue_url(&dlq)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive dlq");
        if let Some(m) = r.messages.unwrap_or_default().into_iter().next() {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the failed message never reached the DLQ"
        );
    };
    assert_eq!(moved.body.as_deref(), Some("not a notice"));
    // the dead-letter queue's alarm fires while the message waits there, and clears after
    sqs.change_message_visibility()
        .queue_url(&dlq)
        .receipt_handle(moved.receipt_handle.clone().expect("handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("visible again");
    assert_eq!(host.alarm_state("NoticeDeadLetterAlarm").await, "ALARM");
    assert_eq!(
        host.alarm_state("AttachmentEventsDeadLetterAlarm").await,
        "OK"
    );
    assert!(
        host.output
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.contains("[alarm]") && l.contains("OK -> ALARM")),
        "the state change is printed"
    );
    sqs.purge_queue()
        .queue_url(&dlq)
        .send()
        .await
        .expect("purge dlq");
    assert_eq!(host.alarm_state("NoticeDeadLetterAlarm").await, "OK");
    let tries = host
        .invocations("NotifyFunction")
        .await
        .into_iter()
        .filter(|i| {
            i["response"]["batchItemFailures"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["itemIdentifier"] == bad_id.as_str()))
        })
        .count();
    assert_eq!(tries, 2, "tried maxReceiveCount times");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&notices)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        )
        .send()
        .await
        .expect("attributes");
    let left: u32 = attrs
        .attributes
        .unwrap_or_default()
        .values()
        .map(|v| v.parse::<u32>().unwrap_or(0))
        .sum();
    assert_eq!(left, 0, "the good notice was deleted, the bad one moved");

    // the object's ObjectCreated notification went through the queue to attachments
    host.wait_invocation("AttachmentsFunction", "the stored object", |i| {
        i["event"].to_string().contains("e2e-photo.jpg")
            && i["response"]["batchItemFailures"] == json!([])
    })
    .await;

    // the sweep fires on demand, at a given clock
    let fired: Value = reqwest::Client::new()
        .post(format!(
            "{}/schedules/{}/fire?at=2026-10-08T01:00:00Z",
            host.control,
            stack.physical_id("DeadlineSweepFunctionSweep")
        ))
        .send()
        .await
        .expect("fire")
        .json()
        .await
        .expect("json");
    assert_eq!(fired["outcome"], "ok", "{fired}");
    assert_eq!(fired["response"]["swept_at"], "2026-10-08T01:00:00Z");
    assert_eq!(fired["response"]["calendar_next_year_missing"], Value::Null);
    // its metric line (embedded metric format) feeds the calendar alarm: OK in October...
    host.wait_alarm("CalendarNextYearMissingAlarm", "OK").await;
    // ...and ALARM from 1 November while the next year has no data (2027 is not in the data)
    let fired: Value = reqwest::Client::new()
        .post(format!(
            "{}/schedules/{}/fire?at=2026-11-02T01:00:00Z",
            host.control,
            stack.physical_id("DeadlineSweepFunctionSweep")
        ))
        .send()
        .await
        .expect("fire")
        .json()
        .await
        .expect("json");
    assert_eq!(
        fired["response"]["calendar_next_year_missing"], 2027,
        "{fired}"
    );
    host.wait_alarm("CalendarNextYearMissingAlarm", "ALARM")
        .await;
}

/// A stand-in for a function binary, for the failure cases: a shell script speaking the Runtime API.
fn script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_and_a_timeout_get_api_gateway_answers_and_the_host_keeps_running() {
    // Arrange: the real binaries, except intake crashes mid-invocation and attachments hangs
    let moto = MotoServer::start();
    let stack = Deploy::new(&moto.endpoint())
        .region(REGION)
        .run()
        .expect("deploy");
    let real = bin_dir();
    let dir = std::env::temp_dir().join(format!("12336-bins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for f in [
        "auth",
        "judgment",
        "deadline-sweep",
        "notify",
        "export",
        "web",
    ] {
        let _ = std::fs::remove_file(dir.join(f));
        std::os::unix::fs::symlink(real.join(f), dir.join(f)).expect("symlink");
    }
    let next = r#"curl -sf "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next" >/dev/null"#;
    script(&dir, "intake", &format!("{next}\nexit 3"));
    script(&dir, "attachments", &format!("{next}\nexec sleep 600"));
    let host = LocalHost::start(&stack, &dir);
    let http = reqwest::Client::new();

    // Act + Assert
    let resp = http
        .get(format!("{}/api/reporter/health", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 502, "a crash is a bad gateway");
    let resp = http
        .get(format!("{}/api/reporter/health", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.status(),
        502,
        "the next invocation starts a new process, which crashes again"
    );
    let started = Instant::now();
    let resp = http
        .post(format!("{}/api/reporter/uploads", host.api))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 504, "a timeout is a gateway timeout");
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "after the function's 10 s timeout"
    );
    let resp = http
        .get(format!("{}/", host.api))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200, "the host keeps serving");
    let output = host.output.lock().expect("lock").join("\n");
    assert!(output.contains("Status: timeout"), "{output}");
    let _ = std::fs::remove_dir_all(&dir);
}
