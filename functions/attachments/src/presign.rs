//! A presigned S3 POST (browser-based upload, SigV4): the policy names the bucket, the exact key,
//! the content type and the content-length range; the signature proves we issued it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use keyring::hmac_sha256 as hmac;
use serde::Serialize;
use serde_json::{Value, json};

/// How long an upload authorisation is valid.
pub const VALID_FOR: Duration = Duration::minutes(10);

/// The credentials that sign.
#[derive(Clone)]
pub struct Signer {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

/// What the browser posts to: the URL and the form fields to send before the file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: serde_json::Map<String, Value>,
}

/// The upload URL of `bucket`: path style on an endpoint override (the emulator), else the
/// bucket's virtual-host URL.
pub fn bucket_url(endpoint: Option<&str>, bucket: &str, region: &str) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}", e.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

/// Signs a POST policy for exactly `key`, `content_type` and 1..=`max_bytes` bytes.
pub fn presign_post(
    signer: &Signer,
    url: String,
    bucket: &str,
    key: &str,
    content_type: &str,
    max_bytes: u64,
    now: DateTime<Utc>,
) -> PresignedPost {
    let date = now.format("%Y%m%d").to_string();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let credential = format!(
        "{}/{date}/{}/s3/aws4_request",
        signer.access_key_id, signer.region
    );
    let mut conditions = vec![
        json!({"bucket": bucket}),
        json!({"key": key}),
        json!({"Content-Type": content_type}),
        json!(["content-length-range", 1, max_bytes]),
        json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        json!({"x-amz-credential": credential}),
        json!({"x-amz-date": amz_date}),
    ];
    if let Some(t) = &signer.session_token {
        conditions.push(json!({"x-amz-security-token": t}));
    }
    let policy = json!({
        "expiration": (now + VALID_FOR).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "conditions": conditions,
    });
    let policy_b64 = B64.encode(policy.to_string());
    let k_date = hmac(
        format!("AWS4{}", signer.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, signer.region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, policy_b64.as_bytes()));
    let mut fields = serde_json::Map::new();
    fields.insert("key".into(), json!(key));
    fields.insert("Content-Type".into(), json!(content_type));
    fields.insert("x-amz-algorithm".into(), json!("AWS4-HMAC-SHA256"));
    fields.insert("x-amz-credential".into(), json!(credential));
    fields.insert("x-amz-date".into(), json!(amz_date));
    if let Some(t) = &signer.session_token {
        fields.insert("x-amz-security-token".into(), json!(t));
    }
    fields.insert("policy".into(), json!(policy_b64));
    fields.insert("x-amz-signature".into(), json!(signature));
    PresignedPost { url, fields }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_policy_binds_key_type_and_size() {
        let signer = Signer {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            region: "us-east-1".into(),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
            .single()
            .expect("t");
        let p = presign_post(
            &signer,
            bucket_url(None, "b", "us-east-1"),
            "b",
            "incoming/k/a1",
            "image/jpeg",
            10,
            now,
        );
        assert_eq!(p.url, "https://b.s3.us-east-1.amazonaws.com");
        let policy = B64
            .decode(p.fields["policy"].as_str().expect("policy"))
            .expect("b64");
        let policy: Value = serde_json::from_slice(&policy).expect("json");
        assert_eq!(policy["expiration"], "2026-03-09T02:10:00.000Z");
        let c = policy["conditions"].to_string();
        assert!(c.contains(r#"{"key":"incoming/k/a1"}"#), "{c}");
        assert!(c.contains(r#"["content-length-range",1,10]"#), "{c}");
        assert!(c.contains(r#"{"Content-Type":"image/jpeg"}"#), "{c}");
        assert_eq!(
            p.fields["x-amz-credential"],
            "AKIDEXAMPLE/20260309/us-east-1/s3/aws4_request"
        );
        assert_eq!(p.fields["x-amz-signature"].as_str().map(str::len), Some(64));
    }
}
