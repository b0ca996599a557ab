//! A surge in a county (issue 16, point 2): reporters are never refused for what others did;
//! the clues over the surge line are filed, marked for the bureau's review, and a retry marks
//! nothing twice. Each reporter keeps their own limits.

mod support;

use chrono::Utc;
use domain::DivisionCode;
use serde_json::Value;
use support::World;

fn body(r: &intake::Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surge_in_a_county_is_filed_and_marked_for_review_never_refused() {
    // Arrange: a surge line of 2 clues per county and hour, five reporters of 西湖区
    let w = World::start_with_surge(2).await;
    let now = Utc::now();
    let mut cookies = Vec::new();
    for i in 0..5 {
        cookies.push(w.sign_in(&format!("oSurgeReporter00000000000{i}")).await);
    }
    let version = w.notice_version(&cookies[0]).await;

    // Act: each files one clue; the last one sends the same clue twice (a retried request)
    let mut numbers = Vec::new();
    for (i, c) in cookies.iter().enumerate() {
        let f = w.h5_clue(&version, c, &format!("第{i}位举报人：在基本农田上建房。"));
        let r = w.handle(&f, now).await;
        // Assert: nobody is refused for the county's surge
        assert_eq!(r.status, 201, "reporter {i}: {}", r.body);
        numbers.push(body(&r)["clue_no"].as_str().expect("clue_no").to_owned());
        if i == 4 {
            let again = w.handle(&f, now).await;
            assert_eq!(again.status, 200, "{}", again.body);
        }
    }

    // Assert: the clues over the line (3rd, 4th, 5th) are marked once each, listed for the
    // county, its city and its province, not for another county
    let code = |c: &str| DivisionCode::parse(c).expect("code");
    let marks = w
        .side
        .surge_marks(&code("330106"), 50, None)
        .await
        .expect("marks");
    let mut marked: Vec<String> = marks
        .items
        .iter()
        .map(|m| m.clue_no.as_str().to_owned())
        .collect();
    marked.sort();
    assert_eq!(marked, numbers[2..].to_vec());
    for m in &marks.items {
        assert_eq!(m.division, code("330106"));
    }
    for territory in ["330100", "330000"] {
        let page = w
            .side
            .surge_marks(&code(territory), 50, None)
            .await
            .expect("marks");
        assert_eq!(page.items.len(), 3, "{territory}");
    }
    let elsewhere = w
        .side
        .surge_marks(&code("330102"), 50, None)
        .await
        .expect("marks");
    assert!(elsewhere.items.is_empty());
    // Paging: one at a time, newest first, the cursor stays inside the territory
    let first = w
        .side
        .surge_marks(&code("330106"), 1, None)
        .await
        .expect("page");
    assert_eq!(first.items[0].clue_no.as_str(), numbers[4]);
    let next = first.next.expect("next");
    let second = w
        .side
        .surge_marks(&code("330106"), 1, Some(&next))
        .await
        .expect("page");
    assert_eq!(second.items[0].clue_no.as_str(), numbers[3]);
    assert!(
        w.side
            .surge_marks(&code("330102"), 1, Some(&next))
            .await
            .is_err(),
        "a cursor of another county is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_keeps_their_own_limit_during_a_surge() {
    // Arrange: a surge line of 1, one reporter
    let w = World::start_with_surge(1).await;
    let now = Utc::now();
    let me = w.sign_in("oSurgeLimited0000000000001").await;
    let version = w.notice_version(&me).await;

    // Act + Assert: five clues pass (four of them in the surge), the sixth meets the reporter's
    // own hourly limit
    for i in 0..6 {
        let f = w.h5_clue(&version, &me, &format!("第{i}次：在基本农田上建房。"));
        let r = w.handle(&f, now).await;
        if i < 5 {
            assert_eq!(r.status, 201, "{i}: {}", r.body);
        } else {
            assert_eq!(
                (r.status, r.error_code().as_deref()),
                (429, Some("rate_limited")),
                "{}",
                r.body
            );
        }
    }
    let marks = w
        .side
        .surge_marks(&DivisionCode::parse("330106").expect("code"), 50, None)
        .await
        .expect("marks");
    assert_eq!(marks.items.len(), 4);
}
