//! template.yaml is the single source of wiring: every function crate has its resource, every
//! resource its crate, and a deploy leaves every resource of the template in the emulator.

use std::collections::BTreeSet;
use std::process::Command;

use testkit::{Deploy, MotoServer, venv_bin, workspace_root};

fn template_functions() -> serde_json::Value {
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("infra/stack/deploy.py"))
        .arg("functions")
        .output()
        .expect("run deploy.py functions");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn every_function_crate_has_its_template_resource_and_back() {
    // Arrange
    let crates: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .expect("functions/")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();

    // Act
    let functions = template_functions();
    let binaries: BTreeSet<String> = functions
        .as_object()
        .expect("object")
        .values()
        .map(|f| f["binary"].as_str().expect("binary").to_owned())
        .collect();

    // Assert
    let without_resource: Vec<_> = crates.difference(&binaries).collect();
    let without_crate: Vec<_> = binaries.difference(&crates).collect();
    assert!(
        without_resource.is_empty(),
        "function crates without a template resource: {without_resource:?}"
    );
    assert!(
        without_crate.is_empty(),
        "template functions without a crate under functions/: {without_crate:?}"
    );
    for (logical, f) in functions.as_object().expect("object") {
        assert_eq!(
            f["build_method"], "rust-cargolambda",
            "{logical} must build with cargo-lambda"
        );
    }
}

#[test]
fn a_deploy_leaves_every_resource_of_the_template_in_the_emulator() {
    // Arrange
    let moto = MotoServer::start();

    // Act
    let stack = Deploy::new(&moto.endpoint()).run().expect("deploy");

    // Assert
    assert!(
        stack.logical_ids().len() > 30,
        "the transformed template has all its resources"
    );
    stack
        .verify()
        .expect("every resource exists right after deploy");
}

#[test]
fn the_check_fails_loudly_when_a_resource_is_missing() {
    // Arrange: a deployed stack, then two resources removed behind its back
    let moto = MotoServer::start();
    let stack = Deploy::new(&moto.endpoint()).run().expect("deploy");
    let script = format!(
        "import boto3\n\
         kw = dict(endpoint_url='{ep}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t')\n\
         boto3.client('kms', **kw).disable_key(KeyId='{key}')\n\
         boto3.client('scheduler', **kw).delete_schedule(Name='{schedule}')\n",
        ep = moto.endpoint(),
        key = stack.physical_id("OfficerSigningKey"),
        schedule = stack.physical_id("DeadlineSweepFunctionSweep"),
    );
    let status = Command::new(venv_bin("python"))
        .args(["-c", &script])
        .status()
        .expect("python");
    assert!(status.success());

    // Act
    let err = stack.verify().expect_err("the check must fail");

    // Assert
    assert!(err.contains("OfficerSigningKey "), "names the key: {err}");
    assert!(
        err.contains("DeadlineSweepFunctionSweep"),
        "names the schedule: {err}"
    );
}

#[test]
fn the_template_deploys_in_the_china_regions_without_cognito() {
    // Arrange
    let moto = MotoServer::start();

    // Act
    let stack = Deploy::new(&moto.endpoint())
        .region("cn-north-1")
        .param("PublicOrigin", "https://12336.example.cn")
        .run()
        .expect("deploy in cn-north-1");

    // Assert: partition aws-cn, every resource there, none of them Cognito (not offered in the
    // China regions), the officer issuer at the public origin with its asymmetric signing key
    let json = stack.json();
    assert_eq!(json["partition"], "aws-cn");
    stack.verify().expect("every resource exists");
    let types: BTreeSet<String> = json["resources"]
        .as_object()
        .expect("resources")
        .values()
        .map(|r| r["type"].as_str().expect("type").to_owned())
        .collect();
    assert!(
        types.iter().all(|t| !t.starts_with("AWS::Cognito::")),
        "{types:?}"
    );
    assert!(
        stack
            .attribute("OfficerSigningKey", "Arn")
            .starts_with("arn:aws-cn:kms:cn-north-1:"),
        "{}",
        stack.attribute("OfficerSigningKey", "Arn")
    );
    assert_eq!(json["outputs"]["OfficerIssuer"], "https://12336.example.cn");
    let script = format!(
        "import boto3\n\
         k = boto3.client('kms', endpoint_url='{ep}', region_name='cn-north-1', aws_access_key_id='t', aws_secret_access_key='t')\n\
         m = k.describe_key(KeyId='{key}')['KeyMetadata']\n\
         print(m['KeySpec'], m['KeyUsage'])\n",
        ep = moto.endpoint(),
        key = stack.physical_id("OfficerSigningKey"),
    );
    let out = Command::new(venv_bin("python"))
        .args(["-c", &script])
        .output()
        .expect("python");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "RSA_2048 SIGN_VERIFY"
    );
}

#[test]
fn a_province_issuer_replaces_the_platform_issuer_in_the_authorizer() {
    // Arrange
    let moto = MotoServer::start();

    // Act
    let stack = Deploy::new(&moto.endpoint())
        .param("OfficerIssuer", "https://idp.zj.gov.cn")
        .param("OfficerAudience", "zj-12336")
        .run()
        .expect("deploy");

    // Assert
    assert_eq!(
        stack.json()["outputs"]["OfficerIssuer"],
        "https://idp.zj.gov.cn"
    );
    let api = &stack.json()["template"]["Resources"]["HttpApi"]["Properties"]["Body"];
    let jwt = &api["components"]["securitySchemes"]["OfficerJwt"]["x-amazon-apigateway-authorizer"]
        ["jwtConfiguration"];
    assert_eq!(jwt["audience"][0]["Ref"], "OfficerAudience");
    assert_eq!(stack.json()["parameters"]["OfficerAudience"], "zj-12336");
}

// ------------------------------------------------------------------ least privilege (issue 16)

/// The template as CloudFormation (SAM transformed, code not packaged).
fn transformed() -> serde_json::Value {
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("infra/stack/deploy.py"))
        .arg("transformed")
        .output()
        .expect("run deploy.py transformed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Every inline policy statement of a role.
fn role_statements(t: &serde_json::Value, role: &str) -> Vec<serde_json::Value> {
    t["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The actions a role is allowed, by service prefix.
fn allowed(t: &serde_json::Value, role: &str, service: &str) -> BTreeSet<String> {
    role_statements(t, role)
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]))
        .filter(|a| a.starts_with(&format!("{service}:")))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_function_gets_only_the_actions_it_uses() {
    // Arrange
    let t = transformed();
    let roles: Vec<String> = t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .map(|(k, _)| k.clone())
        .collect();
    assert!(roles.len() >= 6, "{roles:?}");

    // Assert: no wildcard action allowed anywhere, no table-wide CRUD (Scan, BatchWriteItem,
    // table management)
    for role in &roles {
        for s in role_statements(&t, role) {
            if s["Effect"] != "Allow" {
                continue;
            }
            for a in strings(&s["Action"]) {
                assert!(
                    a != "*" && !a.ends_with(":*"),
                    "{role} is allowed every action of a service: {a}"
                );
                assert!(
                    !matches!(
                        a.as_str(),
                        "dynamodb:Scan"
                            | "dynamodb:BatchWriteItem"
                            | "dynamodb:DeleteTable"
                            | "dynamodb:DescribeTable"
                            | "dynamodb:UpdateTable"
                    ),
                    "{role} has table-wide access: {a}"
                );
            }
        }
    }
    let reads = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    ];
    let writes = ["dynamodb:PutItem", "dynamodb:UpdateItem"];
    let both = |extra: &[&str]| {
        let mut s = set(&reads);
        s.extend(set(&writes));
        s.extend(set(extra));
        s
    };
    for role in ["IntakeFunctionRole", "CallbackFunctionRole"] {
        assert_eq!(
            allowed(&t, role, "dynamodb"),
            both(&["dynamodb:DeleteItem"]),
            "{role}"
        );
    }
    assert_eq!(
        allowed(&t, "JudgmentFunctionRole", "dynamodb"),
        both(&["dynamodb:DeleteItem"])
    );
    assert_eq!(
        allowed(&t, "DeadlineSweepFunctionRole", "dynamodb"),
        both(&[])
    );
    assert_eq!(
        allowed(&t, "AuthFunctionRole", "dynamodb"),
        both(&["dynamodb:DeleteItem"])
    );
    assert_eq!(allowed(&t, "NotifyFunctionRole", "dynamodb"), both(&[]));
    assert_eq!(
        allowed(&t, "AttachmentsFunctionRole", "dynamodb"),
        set(&[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem"
        ])
    );
    // attachments reaches only its own partitions
    let att = role_statements(&t, "AttachmentsFunctionRole");
    let att_table = att
        .iter()
        .find(|s| {
            strings(&s["Action"])
                .iter()
                .any(|a| a.starts_with("dynamodb:"))
        })
        .expect("attachments table statement");
    assert_eq!(
        strings(&att_table["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        set(&["ATT#*", "WXTOKEN#*", "RATE#upload_*", "BLOCK#*"])
    );
    // judgment and the sweep cannot read the WeChat access token (nor its secret)
    for role in ["JudgmentFunctionRole", "DeadlineSweepFunctionRole"] {
        let denies_token = role_statements(&t, role).iter().any(|s| {
            s["Effect"] == "Deny"
                && strings(&s["Action"]) == ["dynamodb:*"]
                && strings(&s["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"])
                    == ["WXTOKEN#*"]
        });
        assert!(denies_token, "{role} may read the WeChat access token");
        assert!(allowed(&t, role, "secretsmanager").is_empty(), "{role}");
    }
    // KMS: intake and the callback seal, judgment and notify open, nobody else touches the
    // identity key
    for role in ["IntakeFunctionRole", "CallbackFunctionRole"] {
        assert_eq!(
            allowed(&t, role, "kms"),
            set(&["kms:GenerateDataKey"]),
            "{role}"
        );
    }
    // The callback reads the WeChat and reporter-key secrets only: no session, no OAuth state
    let callback =
        serde_json::Value::Array(role_statements(&t, "CallbackFunctionRole")).to_string();
    for secret in ["WeChatSecret", "ReporterKeySecret"] {
        assert!(callback.contains(secret), "the callback reads {secret}");
    }
    for secret in ["ReporterSessionSecret", "ReporterOAuthStateSecret"] {
        assert!(!callback.contains(secret), "the callback may read {secret}");
    }
    for role in ["JudgmentFunctionRole", "NotifyFunctionRole"] {
        assert_eq!(allowed(&t, role, "kms"), set(&["kms:Decrypt"]), "{role}");
    }
    assert!(allowed(&t, "DeadlineSweepFunctionRole", "kms").is_empty());
}

#[test]
fn the_identity_key_is_used_only_by_its_functions_with_the_clue_as_context() {
    // Arrange
    let t = transformed();
    let statements = t["Resources"]["PiiKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .cloned()
        .expect("key policy");
    let crypto = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKeyWithoutPlaintext",
    ];

    // Assert: no kms:*; each statement that allows a cryptographic operation names the
    // function roles and requires an encryption context of clue_id / officer_id only
    let mut uses = BTreeSet::new();
    for s in &statements {
        let actions = strings(&s["Action"]);
        assert!(
            actions.iter().all(|a| a != "kms:*" && a != "*"),
            "key policy allows kms:*: {s}"
        );
        let grants_crypto = actions.iter().any(|a| {
            crypto.contains(&a.as_str()) || a == "kms:ReEncrypt*" || a == "kms:GenerateDataKey*"
        });
        if !grants_crypto {
            continue;
        }
        let c = &s["Condition"];
        assert_eq!(
            strings(&c["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]),
            ["clue_id", "officer_id"],
            "{s}"
        );
        assert_eq!(c["Null"]["kms:EncryptionContextKeys"], "false", "{s}");
        let principals = c["ArnLike"]["aws:PrincipalArn"].to_string();
        for a in actions {
            uses.insert(a);
        }
        for role in [
            "IntakeFunctionRole",
            "CallbackFunctionRole",
            "JudgmentFunctionRole",
            "NotifyFunctionRole",
        ] {
            if principals.contains(role) {
                uses.insert(role.to_owned());
            }
        }
        assert!(!principals.contains("Attachments") && !principals.contains("Sweep"));
    }
    assert_eq!(
        uses,
        set(&[
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "IntakeFunctionRole",
            "CallbackFunctionRole",
            "JudgmentFunctionRole",
            "NotifyFunctionRole"
        ])
    );
}

#[test]
fn evidence_is_kms_encrypted_reached_only_over_tls_and_logs_carry_no_query_strings() {
    // Arrange
    let t = transformed();
    let r = &t["Resources"];

    // Assert: the bucket refuses plain HTTP for the bucket and its objects
    let policy = r
        .as_object()
        .expect("resources")
        .values()
        .find(|v| v["Type"] == "AWS::S3::BucketPolicy")
        .expect("a bucket policy");
    assert_eq!(policy["Properties"]["Bucket"]["Ref"], "AttachmentBucket");
    let tls = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Effect"] == "Deny")
        .expect("a deny statement");
    assert_eq!(tls["Principal"], "*");
    assert_eq!(strings(&tls["Action"]), ["s3:*"]);
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    let resources = tls["Resource"].to_string();
    assert!(resources.contains("AttachmentBucket.Arn}/*") && resources.contains("\"Arn\""));
    // SSE-KMS with the evidence key, used only through S3
    let sse = &r["AttachmentBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        [0];
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms"
    );
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0],
        "EvidenceKey"
    );
    for s in r["EvidenceKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .expect("statements")
    {
        let actions = strings(&s["Action"]);
        assert!(actions.iter().all(|a| a != "kms:*"), "{s}");
        if actions.iter().any(|a| a == "kms:Decrypt") {
            assert!(
                s["Condition"]["StringEquals"]["kms:ViaService"].is_object(),
                "{s}"
            );
        }
    }
    // Evidence no clue attached expires: the rule filters evidence/ on the never-attached tag,
    // and only attachments may set or remove that tag, on evidence/ objects only
    let rule = r["AttachmentBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["Id"] == "ExpireNeverAttachedEvidence")
        .expect("never-attached evidence rule");
    assert_eq!(rule["Prefix"], "evidence/");
    assert_eq!(rule["TagFilters"][0]["Key"], "evidence");
    assert_eq!(rule["TagFilters"][0]["Value"], "never-attached");
    assert!(rule["ExpirationInDays"].as_u64().is_some_and(|d| d <= 30));
    let tagging = role_statements(&t, "AttachmentsFunctionRole")
        .into_iter()
        .find(|s| strings(&s["Action"]).contains(&"s3:DeleteObjectTagging".to_owned()))
        .expect("attachments removes the tag");
    assert!(
        tagging["Resource"].to_string().contains("/evidence/*"),
        "{tagging}"
    );
    for role in ["IntakeFunctionRole", "JudgmentFunctionRole"] {
        assert!(
            !allowed(&t, role, "s3")
                .iter()
                .any(|a| a.contains("Tagging")),
            "{role} may change evidence tags"
        );
    }
    // Log levels: no TRACE (the SDK's wire logs carry items)
    let levels = strings(&t["Parameters"]["LogLevel"]["AllowedValues"]);
    assert!(
        !levels.is_empty() && !levels.iter().any(|l| l == "TRACE"),
        "{levels:?}"
    );
    // API access logs: an allow-list of variables, none with the query string or the caller
    let stage = r
        .as_object()
        .expect("resources")
        .values()
        .find(|v| v["Type"] == "AWS::ApiGatewayV2::Stage")
        .expect("stage");
    let format = stage["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .expect("access log format");
    let vars: BTreeSet<&str> = format
        .split("$context.")
        .skip(1)
        .map(|v| {
            v.split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                .next()
                .unwrap_or("")
        })
        .collect();
    let allowed_vars = [
        "requestId",
        "requestTime",
        "routeKey",
        "status",
        "responseLength",
        "integrationLatency",
        "integrationErrorMessage",
    ];
    assert!(
        vars.iter().all(|v| allowed_vars.contains(v)),
        "access log variables {vars:?}"
    );
    assert!(vars.contains("routeKey"));
}

// ------------------------------------------------------------------ the callback (issue 16)

/// The Lambda function each route of the HTTP API's body integrates (`"POST /wechat/callback"`
/// → `"CallbackFunction"`).
fn route_functions(t: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let paths = t["Resources"]["HttpApi"]["Properties"]["Body"]["paths"]
        .as_object()
        .expect("paths");
    for (path, methods) in paths {
        for (method, op) in methods.as_object().expect("methods") {
            let uri = op["x-amazon-apigateway-integration"]["uri"].to_string();
            let function = uri
                .split("${")
                .filter_map(|p| p.split_once(".Arn}").map(|(f, _)| f.to_owned()))
                .next()
                .unwrap_or_default();
            let verb = if method == "x-amazon-apigateway-any-method" {
                "ANY".to_owned()
            } else {
                method.to_uppercase()
            };
            out.insert(format!("{verb} {path}"), function);
        }
    }
    out
}

#[test]
fn the_callback_is_a_function_of_its_own_with_its_own_throttle_and_reserved_concurrency() {
    // Arrange
    let t = transformed();
    let r = &t["Resources"];

    // Assert: the callback's routes go to the callback, no route of intake is the callback's
    let routes = route_functions(&t);
    assert_eq!(routes["GET /wechat/callback"], "CallbackFunction");
    assert_eq!(routes["POST /wechat/callback"], "CallbackFunction");
    let intake: Vec<_> = routes
        .iter()
        .filter(|(_, f)| *f == "IntakeFunction")
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(intake, ["ANY /api/reporter/{proxy+}"], "{routes:?}");
    // …reserved concurrency, and a throttle of its own on the stage
    assert_eq!(
        r["CallbackFunction"]["Properties"]["ReservedConcurrentExecutions"]["Ref"],
        "CallbackReservedConcurrency"
    );
    let stage = r
        .as_object()
        .expect("resources")
        .values()
        .find(|v| v["Type"] == "AWS::ApiGatewayV2::Stage")
        .expect("the HTTP API's stage");
    let throttle = &stage["Properties"]["RouteSettings"]["POST /wechat/callback"];
    assert_eq!(
        throttle["ThrottlingRateLimit"]["Ref"],
        "CallbackThrottleRate"
    );
    assert_eq!(
        throttle["ThrottlingBurstLimit"]["Ref"],
        "CallbackThrottleBurst"
    );

    // Act: deployed into the emulator, with parameters of its own
    let moto = MotoServer::start();
    let stack = Deploy::new(&moto.endpoint())
        .param("CallbackReservedConcurrency", "7")
        .param("CallbackThrottleRate", "33")
        .param("CallbackThrottleBurst", "66")
        .run()
        .expect("deploy");
    let script = format!(
        "import boto3, json\n\
         kw = dict(endpoint_url='{ep}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t')\n\
         f = boto3.client('lambda', **kw).get_function(FunctionName='{function}')\n\
         gw = boto3.client('apigatewayv2', **kw)\n\
         s = gw.get_stage(ApiId='{api}', StageName='$default')\n\
         ints = {{i['IntegrationId']: i['IntegrationUri'] for i in gw.get_integrations(ApiId='{api}')['Items']}}\n\
         routes = {{r['RouteKey']: ints[r['Target'].split('/')[1]] for r in gw.get_routes(ApiId='{api}')['Items']}}\n\
         print(json.dumps({{'reserved': f['Concurrency']['ReservedConcurrentExecutions'], 'throttle': s['RouteSettings']['POST /wechat/callback'], 'routes': routes}}))\n",
        ep = moto.endpoint(),
        function = stack.physical_id("CallbackFunction"),
        api = stack.physical_id("HttpApi"),
    );
    let out = Command::new(venv_bin("python"))
        .args(["-c", &script])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deployed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");

    // Assert: the function exists with its reserved concurrency, the route has its throttle and
    // goes to the callback's function, not intake's
    assert_eq!(deployed["reserved"], 7);
    assert_eq!(deployed["throttle"]["ThrottlingRateLimit"], 33.0);
    assert_eq!(deployed["throttle"]["ThrottlingBurstLimit"], 66);
    let callback = stack.physical_id("CallbackFunction");
    let intake = stack.physical_id("IntakeFunction");
    for key in ["GET /wechat/callback", "POST /wechat/callback"] {
        let uri = deployed["routes"][key].as_str().expect(key);
        assert!(
            uri.contains(&format!(":function:{callback}/")),
            "{key}: {uri}"
        );
        assert!(
            !uri.contains(&format!(":function:{intake}/")),
            "{key}: {uri}"
        );
    }
}
