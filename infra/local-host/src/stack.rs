//! The deployed stack (`stack.json`, written by `infra/stack/deploy.py`): the transformed
//! template plus the physical id and attributes of every resource. Everything the host runs is
//! read from here: functions and their environment, HTTP API routes and authorizers, event source
//! mappings, schedules. Nothing is wired twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

/// The stack description as deploy.py wrote it.
#[derive(Debug, Clone)]
pub struct Stack {
    pub endpoint: String,
    pub region: String,
    pub account: String,
    pub partition: String,
    pub url_suffix: String,
    pub stack_name: String,
    params: BTreeMap<String, String>,
    template: Value,
    resources: Value,
    binaries: BTreeMap<String, String>,
}

/// One function of the template.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// Physical name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    pub arn: String,
    /// Cargo binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// The template's `Environment.Variables`, resolved, plus what `LoggingConfig` implies.
    pub env: BTreeMap<String, String>,
}

/// One route of the HTTP API (`paths` of its OpenAPI body).
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// `GET`, `POST`… or `ANY`.
    pub method: String,
    /// `/api/officer/{proxy+}`.
    pub path: String,
    pub function_logical_id: String,
    pub authorizer: Option<String>,
}

/// A JWT authorizer of the HTTP API.
#[derive(Debug, Clone)]
pub struct AuthorizerSpec {
    pub name: String,
    pub issuer: String,
    pub audience: Vec<String>,
    /// Only `$request.header.<name>` is supported, as for JWT authorizers on AWS.
    pub header: String,
}

#[derive(Debug, Clone)]
pub struct HttpApiSpec {
    pub api_id: String,
    pub routes: Vec<RouteSpec>,
    pub authorizers: BTreeMap<String, AuthorizerSpec>,
}

/// An SQS event source mapping.
#[derive(Debug, Clone)]
pub struct QueueMappingSpec {
    pub logical_id: String,
    pub function_logical_id: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

/// An EventBridge Scheduler schedule that targets a function.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub name: String,
    pub arn: String,
    pub expression: String,
    pub function_logical_id: String,
    pub input: Option<String>,
    pub enabled: bool,
}

impl Stack {
    /// Reads `stack.json`.
    ///
    /// # Errors
    /// If the file is missing or not what deploy.py writes.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        let v: Value =
            serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
        let s = |k: &str| -> Result<String> {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{}: `{k}` missing", path.display()))
        };
        let map = |k: &str| -> BTreeMap<String, String> {
            v[k].as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Self {
            endpoint: s("endpoint")?,
            region: s("region")?,
            account: s("account")?,
            partition: s("partition")?,
            url_suffix: s("url_suffix")?,
            stack_name: s("stack_name")?,
            params: map("parameters"),
            binaries: map("functions"),
            template: v["template"].clone(),
            resources: v["resources"].clone(),
        })
    }

    fn template_resources(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.template["Resources"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.iter())
    }

    fn of_type<'a>(&'a self, t: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.template_resources()
            .filter(move |(_, r)| r["Type"] == t)
    }

    /// What `Ref` gives for a logical id, parameter or pseudo parameter.
    pub fn reference(&self, name: &str) -> Result<String> {
        let pseudo = match name {
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::Partition" => Some(self.partition.clone()),
            "AWS::URLSuffix" => Some(self.url_suffix.clone()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(v);
        }
        if let Some(v) = self.params.get(name) {
            return Ok(v.clone());
        }
        self.resources[name]["ref"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("cannot resolve Ref {name}"))
    }

    /// A template parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A condition of the template's `Conditions` (`Fn::Equals`, `Fn::Not`, `Fn::And`,
    /// `Fn::Or`, `Condition`).
    pub fn condition(&self, name: &str) -> Result<bool> {
        let spec = &self.template["Conditions"][name];
        if spec.is_null() {
            bail!("unknown condition {name}");
        }
        self.truth(spec)
    }

    fn truth(&self, spec: &Value) -> Result<bool> {
        let Some((k, arg)) = spec.as_object().and_then(|m| m.iter().next()) else {
            bail!("bad condition {spec}");
        };
        let list = || arg.as_array().cloned().unwrap_or_default();
        Ok(match k.as_str() {
            "Fn::Equals" => {
                let l = list();
                let text = |v: Value| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                };
                l.len() == 2 && text(self.resolve(&l[0])?) == text(self.resolve(&l[1])?)
            }
            "Fn::Not" => !self.truth(&list().first().cloned().unwrap_or_default())?,
            "Fn::And" => list()
                .iter()
                .map(|c| self.truth(c))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .all(|b| b),
            "Fn::Or" => list()
                .iter()
                .map(|c| self.truth(c))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .any(|b| b),
            "Condition" => self.condition(arg.as_str().unwrap_or_default())?,
            other => bail!("condition function {other} is not supported locally"),
        })
    }

    /// `Fn::GetAtt`.
    pub fn attribute(&self, name: &str, attr: &str) -> Result<String> {
        self.resources[name]["attrs"][attr]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("cannot resolve Fn::GetAtt {name}.{attr}"))
    }

    /// Resolves the intrinsic functions deploy.py supports: Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
    /// Fn::If.
    pub fn resolve(&self, v: &Value) -> Result<Value> {
        Ok(match v {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<Result<_>>()?,
            ),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => Value::String(self.reference(arg.as_str().unwrap_or_default())?),
                    "Fn::GetAtt" => {
                        let (res, attr) = match arg {
                            Value::Array(a) => (
                                a.first()
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                a.get(1)
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                            ),
                            Value::String(s) => {
                                let (r, a) = s.split_once('.').unwrap_or((s, ""));
                                (r.to_owned(), a.to_owned())
                            }
                            _ => bail!("bad Fn::GetAtt {arg}"),
                        };
                        Value::String(self.attribute(&res, &attr)?)
                    }
                    "Fn::Sub" => match arg {
                        Value::String(s) => Value::String(self.sub(s, None)?),
                        Value::Array(a) => {
                            let text = a.first().and_then(Value::as_str).unwrap_or_default();
                            Value::String(self.sub(text, a.get(1).and_then(Value::as_object))?)
                        }
                        _ => bail!("bad Fn::Sub {arg}"),
                    },
                    "Fn::Join" => {
                        let sep = arg[0].as_str().unwrap_or_default();
                        let parts = self.resolve(&arg[1])?;
                        let parts: Vec<String> = parts
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|p| {
                                        p.as_str()
                                            .map(str::to_owned)
                                            .unwrap_or_else(|| p.to_string())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        Value::String(parts.join(sep))
                    }
                    "Fn::If" => {
                        let branches = arg.as_array().cloned().unwrap_or_default();
                        let [cond, yes, no] = branches.as_slice() else {
                            bail!("bad Fn::If {arg}");
                        };
                        let pick = if self.condition(cond.as_str().unwrap_or_default())? {
                            yes
                        } else {
                            no
                        };
                        self.resolve(pick)?
                    }
                    k if k.starts_with("Fn::") => bail!("intrinsic {k} is not supported locally"),
                    _ => Value::Object(
                        m.iter()
                            .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                            .collect::<Result<_>>()?,
                    ),
                }
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    fn sub(&self, text: &str, vars: Option<&serde_json::Map<String, Value>>) -> Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| anyhow!("unclosed ${{ in {text}"))?
                + start;
            let var = &rest[start + 2..end];
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.and_then(|m| m.get(var)) {
                match self.resolve(v)? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
            } else if let Some((res, attr)) =
                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
            {
                out.push_str(&self.attribute(res, attr)?);
            } else {
                out.push_str(&self.reference(var)?);
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn props(&self, logical: &str) -> &Value {
        &self.template["Resources"][logical]["Properties"]
    }

    /// Every function, with its resolved environment.
    ///
    /// # Errors
    /// If a function's binary or environment cannot be resolved.
    pub fn functions(&self) -> Result<Vec<FunctionSpec>> {
        let mut out = Vec::new();
        for (logical, _) in self.of_type("AWS::Lambda::Function") {
            let p = self.props(logical);
            let binary = self
                .binaries
                .get(logical)
                .cloned()
                .ok_or_else(|| anyhow!("{logical}: no Metadata.BuildProperties.Binary"))?;
            let mut env = BTreeMap::new();
            if let Some(vars) = p["Environment"]["Variables"].as_object() {
                for (k, v) in vars {
                    let v = self
                        .resolve(v)
                        .with_context(|| format!("{logical}: environment {k}"))?;
                    env.insert(
                        k.clone(),
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    );
                }
            }
            let logging = self.resolve(&p["LoggingConfig"])?;
            if let Some(format) = logging["LogFormat"].as_str() {
                env.insert("AWS_LAMBDA_LOG_FORMAT".into(), format.to_owned());
            }
            if let Some(level) = logging["ApplicationLogLevel"].as_str() {
                env.insert("AWS_LAMBDA_LOG_LEVEL".into(), level.to_owned());
            }
            out.push(FunctionSpec {
                logical_id: logical.clone(),
                name: self.reference(logical)?,
                arn: self.attribute(logical, "Arn")?,
                binary,
                timeout: Duration::from_secs(number(&self.resolve(&p["Timeout"])?).unwrap_or(3)),
                memory_mb: number(&self.resolve(&p["MemorySize"])?).unwrap_or(128),
                env,
            });
        }
        Ok(out)
    }

    /// Logical id of the function an ARN or name designates.
    fn function_by(&self, arn_or_name: &str) -> Option<String> {
        self.of_type("AWS::Lambda::Function")
            .map(|(l, _)| l.clone())
            .find(|l| {
                self.attribute(l, "Arn").ok().as_deref() == Some(arn_or_name)
                    || self.reference(l).ok().as_deref() == Some(arn_or_name)
            })
    }

    /// The HTTP APIs, from their OpenAPI bodies.
    ///
    /// # Errors
    /// If an integration does not point at a function of the stack.
    pub fn http_apis(&self) -> Result<Vec<HttpApiSpec>> {
        let mut out = Vec::new();
        for (logical, _) in self.of_type("AWS::ApiGatewayV2::Api") {
            let body = self.resolve(&self.props(logical)["Body"])?;
            let mut authorizers = BTreeMap::new();
            if let Some(schemes) = body["components"]["securitySchemes"].as_object() {
                for (name, scheme) in schemes {
                    let a = &scheme["x-amazon-apigateway-authorizer"];
                    let source = a["identitySource"]
                        .as_str()
                        .unwrap_or("$request.header.Authorization");
                    let header = source.strip_prefix("$request.header.").ok_or_else(|| {
                        anyhow!("authorizer {name}: identity source {source} is not supported")
                    })?;
                    authorizers.insert(
                        name.clone(),
                        AuthorizerSpec {
                            name: name.clone(),
                            issuer: a["jwtConfiguration"]["issuer"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                            audience: a["jwtConfiguration"]["audience"]
                                .as_array()
                                .map(|v| {
                                    v.iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_owned)
                                        .collect()
                                })
                                .unwrap_or_default(),
                            header: header.to_ascii_lowercase(),
                        },
                    );
                }
            }
            let mut routes = Vec::new();
            for (path, methods) in body["paths"].as_object().into_iter().flatten() {
                for (method, op) in methods.as_object().into_iter().flatten() {
                    let uri = op["x-amazon-apigateway-integration"]["uri"]
                        .as_str()
                        .unwrap_or_default();
                    // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations
                    let function_arn = uri
                        .split_once("/functions/")
                        .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
                        .ok_or_else(|| {
                            anyhow!(
                                "route {method} {path}: integration {uri} is not a Lambda proxy"
                            )
                        })?;
                    let function_logical_id = self.function_by(function_arn).ok_or_else(|| {
                        anyhow!("route {method} {path}: no function {function_arn}")
                    })?;
                    let authorizer = op["security"].as_array().and_then(|s| {
                        s.iter()
                            .find_map(|req| req.as_object()?.keys().next().cloned())
                    });
                    let method = if method == "x-amazon-apigateway-any-method" {
                        "ANY".to_owned()
                    } else {
                        method.to_ascii_uppercase()
                    };
                    routes.push(RouteSpec {
                        method,
                        path: path.clone(),
                        function_logical_id,
                        authorizer,
                    });
                }
            }
            out.push(HttpApiSpec {
                api_id: self.reference(logical)?,
                routes,
                authorizers,
            });
        }
        Ok(out)
    }

    /// SQS event source mappings.
    ///
    /// # Errors
    /// If a mapping's queue or function is not part of the stack.
    pub fn queue_mappings(&self) -> Result<Vec<QueueMappingSpec>> {
        let mut out = Vec::new();
        for (logical, _) in self.of_type("AWS::Lambda::EventSourceMapping") {
            let p = self.resolve(self.props(logical))?;
            let source = p["EventSourceArn"].as_str().unwrap_or_default();
            let Some((queue, _)) = self
                .of_type("AWS::SQS::Queue")
                .find(|(q, _)| self.attribute(q, "Arn").ok().as_deref() == Some(source))
            else {
                bail!(
                    "{logical}: event source {source} is not a queue of the stack (only SQS is supported)"
                );
            };
            let function = p["FunctionName"].as_str().unwrap_or_default();
            out.push(QueueMappingSpec {
                logical_id: logical.clone(),
                function_logical_id: self
                    .function_by(function)
                    .ok_or_else(|| anyhow!("{logical}: no function {function}"))?,
                queue_url: self.reference(queue)?,
                queue_arn: source.to_owned(),
                batch_size: number(&p["BatchSize"]).unwrap_or(10) as i32,
                batching_window: Duration::from_secs(
                    number(&p["MaximumBatchingWindowInSeconds"]).unwrap_or(0),
                ),
                report_batch_item_failures: p["FunctionResponseTypes"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "ReportBatchItemFailures")),
                enabled: p["Enabled"].as_bool().unwrap_or(true),
            });
        }
        Ok(out)
    }

    /// The CloudWatch alarms the host evaluates: SQS queue depth and embedded-metric-format
    /// metrics (others are printed as not evaluated locally).
    ///
    /// # Errors
    /// If an SQS alarm cannot be resolved or evaluated as written.
    pub fn alarms(&self) -> Result<Vec<crate::alarms::AlarmSpec>> {
        let mut out = Vec::new();
        for (logical, _) in self.of_type("AWS::CloudWatch::Alarm") {
            let p = self.resolve(self.props(logical))?;
            match crate::alarms::AlarmSpec::from_properties(logical, &p)? {
                Some(spec) => out.push(spec),
                None => println!(
                    "[alarm] {logical}: an AWS metric the host cannot sample; not evaluated locally"
                ),
            }
        }
        Ok(out)
    }

    /// EventBridge Scheduler schedules that target functions.
    ///
    /// # Errors
    /// If a schedule targets something that is not a function of the stack.
    pub fn schedules(&self) -> Result<Vec<ScheduleSpec>> {
        let mut out = Vec::new();
        for (logical, _) in self.of_type("AWS::Scheduler::Schedule") {
            let p = self.resolve(self.props(logical))?;
            let target = p["Target"]["Arn"].as_str().unwrap_or_default();
            out.push(ScheduleSpec {
                name: self.reference(logical)?,
                arn: self.attribute(logical, "Arn").unwrap_or_default(),
                expression: p["ScheduleExpression"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                function_logical_id: self.function_by(target).ok_or_else(|| {
                    anyhow!("{logical}: target {target} is not a function of the stack")
                })?,
                input: p["Target"]["Input"].as_str().map(str::to_owned),
                enabled: p["State"].as_str().unwrap_or("ENABLED") == "ENABLED",
            });
        }
        Ok(out)
    }
}

fn number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// Where a function's binary is: `<target dir>/<binary>`.
pub fn binary_path(target_dir: &Path, spec: &FunctionSpec) -> PathBuf {
    target_dir.join(&spec.binary)
}
