//! IAM as the local stack enforces it: each function's identity-based policy, read from the
//! template as CloudFormation and SAM would build its execution role, and the decision AWS makes
//! for one request (an explicit `Deny` wins, then any `Allow`, else the implicit deny).
//!
//! A role is the function's inline `Policies` statements plus the managed policies SAM attaches
//! on its own: `AWSLambdaBasicExecutionRole` always, `AWSLambdaSQSQueueExecutionRole` for an SQS
//! event, `AWSLambdaDynamoDBExecutionRole` for a DynamoDB event, `AWSXrayWriteOnlyAccess` with
//! `Tracing: Active`. SAM's policy templates (`DynamoDBReadPolicy`…) are refused: the template
//! grants with inline statements only, so what a function may do is written where it is read.

use std::collections::BTreeMap;

use serde_norway::Value;

use crate::template::{Template, TemplateError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement, its ARNs resolved to the local stack's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    /// Patterns (`dynamodb:Get*`); with `not_action`, what the statement does not cover.
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}

/// One operator and key of a statement's `Condition`: `StringEquals: {events:source: [..]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// A function's execution role: what it may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    pub statements: Vec<Statement>,
    /// How many of the first statements are the managed policies SAM attached.
    pub attached: usize,
}

/// One authorisation AWS makes: an action on a resource, with the request's condition keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, String>,
}

impl Request {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.insert(key.to_owned(), value.into());
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// A `Deny` statement matched.
    ExplicitlyDenied,
    /// No `Allow` statement matched.
    NotAllowed,
}

/// The operators the local evaluation knows; a template using another is refused at start
/// rather than evaluated wrongly.
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
];

impl Role {
    pub fn decide(&self, request: &Request) -> Decision {
        let matching = |effect| {
            self.statements
                .iter()
                .filter(move |s| s.effect == effect)
                .any(|s| s.matches(request))
        };
        if matching(Effect::Deny) {
            Decision::ExplicitlyDenied
        } else if matching(Effect::Allow) {
            Decision::Allowed
        } else {
            Decision::NotAllowed
        }
    }

    /// The statements the template writes (not those SAM attached).
    pub fn inline(&self) -> &[Statement] {
        &self.statements[self.attached..]
    }
}

impl Statement {
    fn matches(&self, request: &Request) -> bool {
        let action = self.actions.iter().any(|a| {
            glob(
                &a.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        });
        let resource = self.resources.iter().any(|r| glob(r, &request.resource));
        action != self.not_action
            && resource != self.not_resource
            && self.conditions.iter().all(|c| c.holds(&request.context))
    }
}

impl Condition {
    fn holds(&self, context: &BTreeMap<String, String>) -> bool {
        let operator = self.operator.trim_end_matches("IfExists");
        let Some(value) = context.get(&self.key) else {
            // A missing key satisfies only the negated operators and `...IfExists`.
            return operator.contains("Not") || self.operator.ends_with("IfExists");
        };
        let equal = |v: &String| v == value;
        let like = |v: &String| glob(v, value);
        match operator {
            "StringEquals" | "ArnEquals" => self.values.iter().any(equal),
            "StringNotEquals" | "ArnNotEquals" => !self.values.iter().any(equal),
            "StringLike" | "ArnLike" => self.values.iter().any(like),
            "StringNotLike" | "ArnNotLike" => !self.values.iter().any(like),
            _ => false,
        }
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The managed policies SAM attaches to a function's role without being asked, as AWS defines
/// them (their CloudWatch Logs and X-Ray parts have no local service to refuse them).
fn attached_by_sam(event_sources: (bool, bool), tracing: bool) -> Vec<Statement> {
    let allow_all = |actions: &[&str]| Statement {
        effect: Effect::Allow,
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        not_action: false,
        resources: vec!["*".into()],
        not_resource: false,
        conditions: Vec::new(),
    };
    let (sqs, dynamodb) = event_sources;
    let mut statements = vec![allow_all(&[
        // AWSLambdaBasicExecutionRole
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ])];
    if sqs {
        // AWSLambdaSQSQueueExecutionRole
        statements.push(allow_all(&[
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ]));
    }
    if dynamodb {
        // AWSLambdaDynamoDBExecutionRole
        statements.push(allow_all(&[
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ]));
    }
    if tracing {
        // AWSXrayWriteOnlyAccess
        statements.push(allow_all(&[
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        ]));
    }
    statements
}

impl Template {
    /// `function`'s execution role, with `!Ref`/`!GetAtt`/`!Sub` resolved through `names`.
    pub fn role(
        &self,
        function: &str,
        names: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Role, TemplateError> {
        let bad = |reason: String| TemplateError::Resource {
            resource: function.to_owned(),
            reason,
        };
        let resource = self
            .resources
            .get(function)
            .ok_or_else(|| bad("no such function".into()))?;
        let props = &resource.properties;
        let globals = self.globals.get("Function").cloned().unwrap_or(Value::Null);
        let setting = |key: &str| props.get(key).or_else(|| globals.get(key));
        let events: Vec<&str> = match props.get("Events") {
            Some(Value::Mapping(events)) => events
                .values()
                .filter_map(|e| e.get("Type").and_then(Value::as_str))
                .collect(),
            _ => Vec::new(),
        };
        let tracing = setting("Tracing").and_then(Value::as_str) == Some("Active");
        let mut statements = attached_by_sam(
            (events.contains(&"SQS"), events.contains(&"DynamoDB")),
            tracing,
        );
        let attached = statements.len();
        let policies = match props.get("Policies") {
            None => Vec::new(),
            Some(Value::Sequence(items)) => items.clone(),
            Some(one) => vec![one.clone()],
        };
        for policy in &policies {
            let Some(document) = policy.get("Statement") else {
                let name = match policy {
                    Value::String(s) => s.clone(),
                    Value::Mapping(m) => m
                        .keys()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => "?".into(),
                };
                return Err(bad(format!(
                    "policy {name}: the template grants with inline statements only \
                     (`- Statement: [...]`), so the local stack enforces exactly what AWS would"
                )));
            };
            let list = match document {
                Value::Sequence(items) => items.clone(),
                one => vec![one.clone()],
            };
            for statement in &list {
                statements.push(self.statement(statement, names).map_err(&bad)?);
            }
        }
        Ok(Role {
            statements,
            attached,
        })
    }

    fn statement(
        &self,
        statement: &Value,
        names: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Statement, String> {
        let strings = |value: &Value| -> Result<Vec<String>, String> {
            let items = match value {
                Value::Sequence(items) => items.clone(),
                one => vec![one.clone()],
            };
            items
                .iter()
                .map(|v| {
                    self.resolve(v, names)
                        .ok_or_else(|| format!("cannot resolve {v:?} in a policy statement"))
                })
                .collect()
        };
        let either = |positive: &str, negative: &str| -> Result<(Vec<String>, bool), String> {
            match (statement.get(positive), statement.get(negative)) {
                (Some(v), None) => Ok((strings(v)?, false)),
                (None, Some(v)) => Ok((strings(v)?, true)),
                _ => Err(format!("a statement needs one of {positive} or {negative}")),
            }
        };
        let effect = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(format!("statement effect {other:?}")),
        };
        let (actions, not_action) = either("Action", "NotAction")?;
        let (resources, not_resource) = either("Resource", "NotResource")?;
        let mut conditions = Vec::new();
        if let Some(Value::Mapping(operators)) = statement.get("Condition") {
            for (operator, keys) in operators {
                let operator = operator.as_str().unwrap_or_default().to_owned();
                if !OPERATORS.contains(&operator.trim_end_matches("IfExists")) {
                    return Err(format!(
                        "condition operator {operator} is not one the local stack evaluates ({})",
                        OPERATORS.join(", ")
                    ));
                }
                let Value::Mapping(keys) = keys else {
                    return Err(format!("condition {operator} is not a mapping"));
                };
                for (key, values) in keys {
                    conditions.push(Condition {
                        operator: operator.clone(),
                        key: key.as_str().unwrap_or_default().to_owned(),
                        values: strings(values)?,
                    });
                }
            }
        }
        Ok(Statement {
            effect,
            actions,
            not_action,
            resources,
            not_resource,
            conditions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/reader
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: events:PutEvents
              Resource: "*"
              Condition:
                StringEquals:
                  events:source: bilheteria
            - Effect: Deny
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/Secret"
  Templated:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/templated
      Policies:
        - DynamoDBReadPolicy:
            TableName: !Ref Table
"#;

    fn role(function: &str) -> Result<Role, TemplateError> {
        let template = Template::parse(TEMPLATE).unwrap();
        template.role(function, &|name| {
            (name == "Table.Arn").then(|| "arn:aws:dynamodb:us-east-1:0:table/Table".to_owned())
        })
    }

    #[test]
    fn actions_resources_and_conditions_decide() {
        let role = role("Reader").unwrap();
        let table = "arn:aws:dynamodb:us-east-1:0:table/Table";
        assert_eq!(
            role.decide(&Request::new("dynamodb:GetItem", table)),
            Decision::Allowed
        );
        assert_eq!(
            role.decide(&Request::new("dynamodb:BatchGetItem", table)),
            Decision::NotAllowed
        );
        // Granted on the table, not on its indexes.
        assert_eq!(
            role.decide(&Request::new(
                "dynamodb:Query",
                format!("{table}/index/GSI1")
            )),
            Decision::NotAllowed
        );
        assert_eq!(
            role.decide(&Request::new(
                "dynamodb:Query",
                format!("{table}/index/Secret")
            )),
            Decision::ExplicitlyDenied
        );
        let bus = "arn:aws:events:us-east-1:0:event-bus/b";
        let put = Request::new("events:PutEvents", bus);
        assert_eq!(role.decide(&put), Decision::NotAllowed, "no source");
        assert_eq!(
            role.decide(&put.clone().with("events:source", "bilheteria")),
            Decision::Allowed
        );
        assert_eq!(
            role.decide(&put.with("events:source", "other")),
            Decision::NotAllowed
        );
        // Action names are case-insensitive, resources are not.
        assert_eq!(
            role.decide(&Request::new("DynamoDB:getitem", table)),
            Decision::Allowed
        );
        assert_eq!(
            role.decide(&Request::new("dynamodb:GetItem", table.to_uppercase())),
            Decision::NotAllowed
        );
    }

    #[test]
    fn policy_templates_are_refused_by_name() {
        let error = role("Templated").unwrap_err().to_string();
        assert!(error.contains("DynamoDBReadPolicy"), "{error}");
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(glob("dynamodb:Get*", "dynamodb:GetItem"));
        assert!(glob("*", ""));
        assert!(glob(
            "arn:*:table/T/index/*",
            "arn:aws:dynamodb:r:0:table/T/index/G"
        ));
        assert!(!glob(
            "arn:*:table/T",
            "arn:aws:dynamodb:r:0:table/T/index/G"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
    }
}
