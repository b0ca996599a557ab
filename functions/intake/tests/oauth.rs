//! The reporter's WeChat OAuth sign-in refuses what it did not start, against a serialized moto
//! with `template.yaml` deployed and the fake WeChat in-process (the sign-in itself:
//! `support::World::sign_in`).

mod support;

use chrono::Utc;
use support::{Refusals, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_returns_without_a_state_code_or_this_browsers_nonce_are_refused() {
    // Arrange: a reporter signed in before (whose openid no answer may show), a state signed
    // for nonce n1
    let w = World::start().await;
    w.sign_in("oH5Reporter000000000000001").await;
    let oauth = |q: &str, nonce: Option<&str>| {
        let mut r = w.api("GET", &format!("/api/reporter/oauth?{q}"), None, "");
        if let Some(n) = nonce {
            r.cookies.insert(session::LOGIN_COOKIE.into(), n.into());
        }
        r
    };
    let state = w.app.session.sign_state("#/", "n1", Utc::now().timestamp());
    let mut refused = Refusals::default();
    refused.add(
        "oauth without state",
        oauth("code=abc", Some("n1")),
        400,
        "bad_oauth",
    );
    refused.add(
        "oauth without code",
        oauth(&format!("state={state}"), Some("n1")),
        400,
        "bad_oauth",
    );
    refused.add(
        "oauth other browser",
        oauth(&format!("code=abc&state={state}"), Some("n2")),
        400,
        "bad_oauth",
    );
    refused.add(
        "oauth no nonce cookie",
        oauth(&format!("code=abc&state={state}"), None),
        400,
        "bad_oauth",
    );
    refused.add(
        "oauth forged state",
        oauth(
            "code=abc&state=Iy8.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
            Some("n1"),
        ),
        400,
        "bad_oauth",
    );
    refused.add(
        "oauth unknown code",
        oauth(&format!("code=nosuchcode&state={state}"), Some("n1")),
        400,
        "bad_oauth",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, &["oH5Reporter"]).await, 6);
}
