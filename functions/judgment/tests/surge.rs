//! The surge review list over the officer API (issue 16, point 2): each bureau sees the surge
//! marks of its own territory (county, city, province), never another's; the ministry has no
//! territory to list; the paging cursor cannot leave the territory.

use testkit::store_env as support;

use std::collections::HashMap;

use api::{Req, Resp};
use chrono::Utc;
use domain::{ClueId, ClueNo, DivisionCode, Officer, Role};
use judgment::App;
use outbox::MemoryNoticeQueue;
use store::roles::*;
use store::{DynamoClueStore, ReportingStore};
use support::{Env, officer};

async fn get(
    app: &App<DynamoClueStore, MemoryNoticeQueue>,
    o: &Officer,
    path: &str,
    query: &[(&str, &str)],
) -> Resp {
    let mut r = Req::new("GET", path);
    for (k, v) in query {
        r.query.insert((*k).to_owned(), (*v).to_owned());
    }
    r.claims = HashMap::from([("sub".to_owned(), o.id.as_str().to_owned())]);
    app.handle(&r, Utc::now()).await
}

fn numbers(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json_body()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["clue_no"].as_str().expect("clue_no").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bureau_lists_the_surge_clues_of_its_own_territory() {
    // Arrange: two marks in 西湖区, one in 余杭区, one in 宁波市海曙区
    let env = Env::start().await;
    let reporting = ReportingStore::new(env.db.clone(), env.table.clone());
    let app = App::new(env.officer_store(), MemoryNoticeQueue::default())
        .with_reporting(reporting.clone());
    let now = Utc::now();
    for (i, no) in [
        "330106-20261202-0301",
        "330106-20261202-0302",
        "330110-20261202-0301",
        "330203-20261202-0301",
    ]
    .iter()
    .enumerate()
    {
        let no = ClueNo::parse(no).expect("no");
        let division = DivisionCode::parse(&no.as_str()[..6]).expect("division");
        let id = ClueId::parse(&format!("c-surge-{i}")).expect("id");
        reporting
            .mark_surge(&id, &no, &division, now)
            .await
            .expect("mark");
        // Marking again (a retried filing) keeps one item.
        reporting
            .mark_surge(&id, &no, &division, now)
            .await
            .expect("mark again");
    }
    let mut callers = Vec::new();
    for (name, bureau) in [
        ("xh", "land-330106"),
        ("yh", "land-330110"),
        ("hz", "land-330100"),
        ("zj", "land-330000"),
        ("nb", "land-330200"),
        ("mnr", "ministry"),
    ] {
        let o = officer(name, bureau, &[Role::Handler]);
        env.store.put_officer(&o).await.expect("officer");
        callers.push(o);
    }

    // Act + Assert
    let path = "/api/officer/surge";
    assert_eq!(
        numbers(&get(&app, &callers[0], path, &[]).await),
        ["330106-20261202-0302", "330106-20261202-0301"]
    );
    assert_eq!(
        numbers(&get(&app, &callers[1], path, &[]).await),
        ["330110-20261202-0301"]
    );
    assert_eq!(numbers(&get(&app, &callers[2], path, &[]).await).len(), 3);
    assert_eq!(numbers(&get(&app, &callers[3], path, &[]).await).len(), 4);
    assert_eq!(
        numbers(&get(&app, &callers[4], path, &[]).await),
        ["330203-20261202-0301"]
    );
    let ministry = get(&app, &callers[5], path, &[]).await;
    assert_eq!(
        (ministry.status, ministry.error_code().as_deref()),
        (403, Some("no_territory"))
    );
    // Paging within 西湖区; a cursor from 宁波 is refused to 西湖区, a bad limit too.
    let first = get(&app, &callers[0], path, &[("limit", "1")]).await;
    let next = first.json_body()["next"].as_str().expect("next").to_owned();
    assert_eq!(
        numbers(
            &get(
                &app,
                &callers[0],
                path,
                &[("limit", "1"), ("cursor", &next)]
            )
            .await
        ),
        ["330106-20261202-0301"]
    );
    for (k, v) in [
        ("cursor", "330203-20261202-0301"),
        ("cursor", "x"),
        ("limit", "0"),
    ] {
        let r = get(&app, &callers[0], path, &[(k, v)]).await;
        assert_eq!(r.status, 400, "{k}={v}: {}", r.body);
    }
}
