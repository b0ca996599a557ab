//! The statistics route against moto (template deployed): a county sees only its own figures, a
//! city its counties, the province its cities and any division below; each child's figures and
//! the trend series come from the counters; hostile parameters get a clear 400 or 404.

use testkit::store_env as support;

use std::collections::HashMap;

use api::Req;
use domain::{Officer, Role};
use judgment::App;
use serde_json::Value;
use store::roles::*;
use support::{at, officer};

fn stats_req(o: &Officer, query: &[(&str, &str)]) -> Req {
    let mut r = Req::new("GET", "/api/officer/statistics");
    r.claims = HashMap::from([("sub".to_owned(), o.id.as_str().to_owned())]);
    for (k, v) in query {
        r.query.insert((*k).to_owned(), (*v).to_owned());
    }
    r
}

fn child<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("child {code} in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_level_sees_its_territory_figures_and_nothing_beside_it() {
    support::bounded(240, async {
        let app = App::new(support::twin().await, outbox::MemoryNoticeQueue::default());
        let xihu = officer("xihu", "land-330106", &[Role::Handler]);
        let yuhang = officer("yuhang", "land-330110", &[Role::Handler]);
        let hangzhou = officer("hangzhou", "land-330100", &[Role::Supervisor]);
        let ningbo = officer("ningbo", "land-330200", &[Role::Supervisor]);
        let zhejiang = officer("zhejiang", "land-330000", &[Role::Supervisor]);
        for o in [&xihu, &yuhang, &hangzhou, &ningbo, &zhejiang] {
            app.store.put_officer(o).await.expect("officer");
        }
        support::receive_on(&app.store, "c-xh-1", 1, "330106", at(3, 9)).await;
        support::receive_on(&app.store, "c-xh-2", 2, "330106", at(4, 14)).await;
        support::receive_on(&app.store, "c-yh-1", 3, "330110", at(3, 10)).await;
        support::receive_on(&app.store, "c-hs-1", 4, "330203", at(3, 11)).await;
        let now = at(5, 20);
        let get = |o: &Officer, q: &[(&str, &str)]| {
            let r = stats_req(o, q);
            let app = &app;
            async move { app.handle(&r, now).await }
        };
        let ok = |r: api::Resp| -> Value {
            assert_eq!(r.status, 200, "{}", r.body);
            r.json_body()
        };

        // A county: its own division by default, no children; this year up to today.
        let own = ok(get(&xihu, &[]).await);
        assert_eq!(own["division"]["code"], "330106");
        assert_eq!(own["division"]["level"], "county");
        assert_eq!(own["from"], "2026-01-01");
        assert_eq!(own["to"], "2026-05-20");
        assert_eq!(own["figures"]["received"], 2);
        assert_eq!(own["figures"]["open"], 2);
        assert_eq!(own["figures"]["by_channel"]["h5"], 2);
        assert_eq!(own["children"].as_array().map(Vec::len), Some(0));
        let months = own["series"].as_array().expect("series");
        assert_eq!(months.len(), 5, "January to May");
        let received: Vec<i64> = months
            .iter()
            .map(|m| m["received"].as_i64().expect("n"))
            .collect();
        assert_eq!(received, [0, 0, 1, 1, 0]);
        let open: Vec<i64> = months
            .iter()
            .map(|m| m["open"].as_i64().expect("n"))
            .collect();
        assert_eq!(
            open,
            [0, 0, 1, 2, 2],
            "the gauge stands at each month's end"
        );
        // …never a sibling's, its city's or the province's.
        for division in ["330110", "330100", "330000", "330203"] {
            let r = get(&xihu, &[("division", division)]).await;
            assert_eq!(
                (r.status, r.error_code().as_deref()),
                (404, Some("division_not_found")),
                "{division}"
            );
        }
        let sibling = ok(get(&yuhang, &[]).await);
        assert_eq!(sibling["figures"]["received"], 1);

        // A city: its counties, one of them drilled into (with the way back up).
        let city = ok(get(&hangzhou, &[("from", "2026-03-01"), ("to", "2026-03-31")]).await);
        assert_eq!(city["division"]["code"], "330100");
        assert_eq!(city["figures"]["received"], 2, "March only");
        assert_eq!(child(&city, "330106")["figures"]["received"], 1);
        assert_eq!(child(&city, "330106")["bureau_id"], "land-330106");
        assert_eq!(child(&city, "330110")["figures"]["received"], 1);
        assert!(
            city["children"]
                .as_array()
                .expect("children")
                .iter()
                .all(|c| c["code"].as_str().is_some_and(|c| c.starts_with("3301"))),
            "only Hangzhou's counties"
        );
        let county = ok(get(&hangzhou, &[("division", "330106")]).await);
        assert_eq!(county["figures"]["received"], 2);
        let path: Vec<&str> = county["path"]
            .as_array()
            .expect("path")
            .iter()
            .filter_map(|p| p["code"].as_str())
            .collect();
        assert_eq!(
            path,
            ["330100"],
            "up to the caller's own division, not above"
        );
        for division in ["330203", "330200", "330000"] {
            let r = get(&hangzhou, &[("division", division)]).await;
            assert_eq!(r.status, 404, "{division}: {}", r.body);
        }
        let r = get(&ningbo, &[("division", "330106")]).await;
        assert_eq!(r.status, 404, "another city's county");

        // The province: its cities, and any division below.
        let province = ok(get(&zhejiang, &[("granularity", "quarter")]).await);
        assert_eq!(province["figures"]["received"], 4);
        assert_eq!(child(&province, "330100")["figures"]["received"], 3);
        assert_eq!(child(&province, "330200")["figures"]["received"], 1);
        assert_eq!(province["series"].as_array().map(Vec::len), Some(2));
        let haishu = ok(get(&zhejiang, &[("division", "330203")]).await);
        assert_eq!(haishu["figures"]["received"], 1);
        let path: Vec<&str> = haishu["path"]
            .as_array()
            .expect("path")
            .iter()
            .filter_map(|p| p["code"].as_str())
            .collect();
        assert_eq!(path, ["330000", "330200"]);

        // Hostile parameters: a clear 400/404 with a stable code.
        for (q, status, code) in [
            (vec![("division", "33010x")], 400, "invalid_division"),
            (vec![("division", "999999")], 404, "division_not_found"),
            (vec![("from", "2026-13-01")], 400, "invalid_date"),
            (
                vec![("from", "2026-05-02"), ("to", "2026-05-01")],
                400,
                "invalid_period",
            ),
            (vec![("granularity", "week")], 400, "invalid_granularity"),
            (
                vec![("from", "2000-01-01"), ("granularity", "day")],
                400,
                "too_many_periods",
            ),
        ] {
            let r = get(&zhejiang, &q).await;
            assert_eq!(
                (r.status, r.error_code().as_deref()),
                (status, Some(code)),
                "{q:?}: {}",
                r.body
            );
        }
    })
    .await;
}
