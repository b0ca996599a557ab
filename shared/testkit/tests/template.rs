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
