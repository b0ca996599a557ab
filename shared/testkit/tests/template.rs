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
         boto3.client('cognito-idp', **kw).delete_user_pool(UserPoolId='{pool}')\n\
         boto3.client('scheduler', **kw).delete_schedule(Name='{schedule}')\n",
        ep = moto.endpoint(),
        pool = stack.physical_id("OfficerUserPool"),
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
    assert!(err.contains("OfficerUserPool "), "names the pool: {err}");
    assert!(
        err.contains("DeadlineSweepFunctionSweep"),
        "names the schedule: {err}"
    );
}
