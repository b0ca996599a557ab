//! The store on moto for tests: a fresh moto with `template.yaml` deployed, a
//! [`store::DynamoClueStore`] on it with the fixture bureaus stored, and fixtures (Zhejiang
//! bureaus, officers, identities, submissions). Used by the store's tests and every function's
//! tests that need the table: `use testkit::store_env as support;`. [`twin`] is the in-memory
//! twin with the same fixtures, for handler tests that do not need the table.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use chrono::{DateTime, TimeZone, Utc};
use domain::event::{Channel, Location};
use domain::scope::{Category, CategoryChoice, ScopeHistory};
use domain::text::{Address, Facts, Subject};
use domain::{
    Bureau, BureauId, BureauKind, BureauLevel, ClueId, DivisionCode, Officer, OfficerId, Role,
};
use store::{
    DynamoClueStore, IdempotencyKey, InMemoryClueStore, ReporterIdentity, StoreConfig, Submission,
    roles::*,
};

/// A store on a fresh moto with `template.yaml` deployed and the fixture bureaus stored.
pub struct Env {
    _moto: crate::MotoServer,
    pub endpoint: String,
    pub db: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub table: String,
    pub pii_key: String,
    pub store: DynamoClueStore,
}

pub const SECRET: &[u8] = b"test-reporter-key-secret-0123456789";

impl Env {
    pub async fn start() -> Self {
        let (moto, stack) = tokio::task::spawn_blocking(|| {
            let moto = crate::MotoServer::start();
            let stack = crate::Deploy::new(&moto.endpoint())
                .run()
                .expect("deploy template.yaml");
            (moto, stack)
        })
        .await
        .expect("start moto");
        let endpoint = moto.endpoint();
        let db = dynamodb_client(&endpoint);
        let kms = kms_client(&endpoint);
        let table = stack.table_name();
        let pii_key = stack.physical_id("PiiKey");
        let store = DynamoClueStore::new(
            db.clone(),
            kms.clone(),
            StoreConfig::new(&table, &pii_key, SECRET.to_vec()),
        )
        .expect("store");
        for b in bureaus() {
            store.put_bureau(&b).await.expect("bureau");
        }
        Self {
            _moto: moto,
            endpoint,
            db,
            kms,
            table,
            pii_key,
            store,
        }
    }

    /// A second store instance on the same table (another cold start).
    pub fn another_store(&self) -> DynamoClueStore {
        DynamoClueStore::new(
            self.db.clone(),
            self.kms.clone(),
            StoreConfig::new(&self.table, &self.pii_key, SECRET.to_vec()),
        )
        .expect("store")
    }

    /// A store on the same table as the officer API builds it: no reporter keys.
    pub fn officer_store(&self) -> DynamoClueStore {
        DynamoClueStore::new(
            self.db.clone(),
            self.kms.clone(),
            StoreConfig::without_reporter_keys(&self.table, &self.pii_key),
        )
        .expect("store")
    }

    /// The reporting side table on the same table.
    pub fn reporting(&self) -> store::ReportingStore {
        store::ReportingStore::new(self.db.clone(), self.table.clone())
    }

    /// Every item of the table (test inspection only).
    pub async fn scan(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .db
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            all.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return all,
            }
        }
    }

    /// Receives a clue from reporter `n` at `division`.
    pub async fn receive(
        &self,
        clue: &str,
        n: u32,
        division: &str,
        now: DateTime<Utc>,
    ) -> store::Received {
        receive_on(&self.store, clue, n, division, now).await
    }

    pub async fn submission(&self, clue: &str, division: &str, now: DateTime<Utc>) -> Submission {
        submission_on(&self.store, clue, division, now).await
    }
}

/// The in-memory twin shaped like [`Env`], for handler tests that do not need the table.
pub struct Twin {
    pub store: InMemoryClueStore,
}

impl Twin {
    pub async fn start() -> Self {
        Self {
            store: twin().await,
        }
    }

    /// Receives a clue from reporter `n` at `division`.
    pub async fn receive(
        &self,
        clue: &str,
        n: u32,
        division: &str,
        now: DateTime<Utc>,
    ) -> store::Received {
        receive_on(&self.store, clue, n, division, now).await
    }
}

/// The in-memory twin of the store, keyed like [`Env`]'s, with the fixture bureaus.
pub async fn twin() -> InMemoryClueStore {
    let store = InMemoryClueStore::new(SECRET.to_vec()).expect("store");
    for b in bureaus() {
        store.put_bureau(&b).await.expect("bureau");
    }
    store
}

/// Receives clue `clue` from reporter `n` at `division` into `store` (key `rcv-<clue>`).
pub async fn receive_on<S: ClueCommands + Scopes>(
    store: &S,
    clue: &str,
    n: u32,
    division: &str,
    now: DateTime<Utc>,
) -> store::Received {
    let sub = submission_on(store, clue, division, now).await;
    store
        .receive(sub, identity(n), now, &key(&format!("rcv-{clue}")))
        .await
        .expect("receive")
}

/// A submission of clue `clue` at `division`, consenting to the notice `store` has in force.
pub async fn submission_on<S: Scopes>(
    store: &S,
    clue: &str,
    division: &str,
    now: DateTime<Utc>,
) -> Submission {
    let city = code(division).city().expect("city");
    let history = store.scope_history(city).await.expect("scope");
    submission_under(&history, clue, division, now)
}

/// A submission of clue `clue` at `division` (a county of the fixture bureaus), consenting to
/// the reporting notice of `history` in force at `now`.
pub fn submission_under(
    history: &ScopeHistory,
    clue: &str,
    division: &str,
    now: DateTime<Utc>,
) -> Submission {
    Submission {
        clue_id: ClueId::parse(clue).expect("id"),
        report: domain::report::Report {
            location: Location {
                division: code(division),
                address: Address::parse("留下街道某村东侧农田").expect("address"),
                gps: None,
            },
            subject: Some(Subject::parse("某建材公司").expect("subject")),
            category: CategoryChoice::Annex(Category::FarmlandDestruction),
            facts: Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
            evidence_left_out: Vec::new(),
            notice_version: history.in_force(now).reporting_notice().version_id,
            consent: true,
            channel: Channel::H5,
            resubmission_of: None,
        },
        evidence: Vec::new(),
    }
}

/// Runs a test body with a time bound.
pub async fn bounded<F: std::future::Future<Output = ()>>(secs: u64, f: F) {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test took too long");
}

pub fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("code")
}

pub fn bid(s: &str) -> BureauId {
    BureauId::parse(s).expect("bureau id")
}

pub fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).expect("key")
}

pub fn cid(s: &str) -> ClueId {
    ClueId::parse(s).expect("clue id")
}

/// 10:00 Asia/Shanghai (02:00 UTC) on a date of 2026.
pub fn at(m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, 2, 0, 0)
        .single()
        .expect("time")
}

pub fn identity(n: u32) -> ReporterIdentity {
    ReporterIdentity {
        openid: format!("oWx{n:04}openidXYZabc"),
        name: Some("张三".to_owned()),
        phone: Some(format!("1381234{n:04}")),
        id_number: Some("11010519491231002X".to_owned()),
    }
}

fn land(id: &str, level: BureauLevel, division: Option<&str>, region: &str) -> Bureau {
    Bureau {
        id: bid(id),
        name: format!("{region}自然资源和规划局"),
        region: region.to_owned(),
        level,
        kind: BureauKind::Land,
        division: division.map(code),
        city_direct: false,
    }
}

/// Zhejiang: Hangzhou (Xihu, Yuhang) and Ningbo (city-direct, Haishu), the province, the ministry.
pub fn bureaus() -> Vec<Bureau> {
    let mut ningbo = land("land-330200", BureauLevel::City, Some("330200"), "宁波市");
    ningbo.city_direct = true;
    vec![
        land("ministry", BureauLevel::Ministry, None, "自然资源部"),
        land(
            "land-330000",
            BureauLevel::Province,
            Some("330000"),
            "浙江省",
        ),
        land("land-330100", BureauLevel::City, Some("330100"), "杭州市"),
        land(
            "land-330106",
            BureauLevel::County,
            Some("330106"),
            "杭州市西湖区",
        ),
        land(
            "land-330110",
            BureauLevel::County,
            Some("330110"),
            "杭州市余杭区",
        ),
        ningbo,
        land(
            "land-330203",
            BureauLevel::County,
            Some("330203"),
            "宁波市海曙区",
        ),
    ]
}

pub fn officer(name: &str, bureau: &str, roles: &[Role]) -> Officer {
    Officer {
        id: OfficerId::parse(name).expect("officer id"),
        bureau: bid(bureau),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
    }
}

pub fn handler(bureau: &str) -> Officer {
    officer(
        &format!("{bureau}-handler"),
        bureau,
        &[Role::Handler, Role::Leader],
    )
}

pub fn as_officer(o: &Officer) -> domain::Actor {
    domain::Actor::Officer { officer: o.clone() }
}

fn test_credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "tests")
}

/// A DynamoDB client for the emulator at `endpoint`.
pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .build(),
    )
}

/// A KMS client for the emulator at `endpoint`.
pub fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .build(),
    )
}
