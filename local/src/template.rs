//! Reads `template.yaml`, the one source of truth for tables, functions and routes.
//!
//! CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`) are kept as tagged values; only
//! the parts the local stack needs are mapped to types.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;
use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("resource {resource}: {reason}")]
    Resource { resource: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub properties: Value,
    #[serde(default)]
    pub metadata: Value,
}

/// An `AWS::DynamoDB::Table`'s key schema, indexes and TTL, as CloudFormation names them.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSpec {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub time_to_live_specification: Option<TimeToLive>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

/// An `AWS::Serverless::Function` and the HTTP routes that invoke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub logical_id: String,
    pub code_uri: String,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// `false` when the route sets `Auth: Authorizer: NONE`.
    pub authorized: bool,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(serde_norway::from_str(text)?)
    }

    /// The repository's own template (two levels up from this crate).
    pub fn of_repository() -> Result<Self, TemplateError> {
        Self::load(&repository_root().join("template.yaml"))
    }

    fn of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    /// Every table, by logical id (its local name).
    pub fn tables(&self) -> Result<BTreeMap<String, TableSpec>, TemplateError> {
        self.of_type("AWS::DynamoDB::Table")
            .map(|(id, r)| {
                let spec = serde_norway::from_value(r.properties.clone()).map_err(|e| {
                    TemplateError::Resource {
                        resource: id.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((id.clone(), spec))
            })
            .collect()
    }

    /// Every function with its HTTP API routes.
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        self.of_type("AWS::Serverless::Function")
            .map(|(id, r)| {
                let bad = |reason: &str| TemplateError::Resource {
                    resource: id.clone(),
                    reason: reason.into(),
                };
                let code_uri = r
                    .properties
                    .get("CodeUri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("no CodeUri"))?;
                let mut routes = Vec::new();
                if let Some(Value::Mapping(events)) = r.properties.get("Events") {
                    for event in events.values() {
                        if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                            continue;
                        }
                        let props = event
                            .get("Properties")
                            .ok_or_else(|| bad("HttpApi event without Properties"))?;
                        let text =
                            |key: &str| props.get(key).and_then(Value::as_str).map(str::to_owned);
                        let authorizer = props
                            .get("Auth")
                            .and_then(|a| a.get("Authorizer"))
                            .and_then(Value::as_str);
                        routes.push(Route {
                            method: text("Method")
                                .ok_or_else(|| bad("HttpApi event without Method"))?
                                .to_uppercase(),
                            path: text("Path").ok_or_else(|| bad("HttpApi event without Path"))?,
                            authorized: authorizer != Some("NONE"),
                        });
                    }
                }
                Ok(Function {
                    logical_id: id.clone(),
                    code_uri: code_uri.to_owned(),
                    routes,
                })
            })
            .collect()
    }
}

/// The repository's root directory, where `template.yaml` lives.
pub fn repository_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-table"
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/hello
      Environment:
        Variables:
          TABLE_NAME: !Ref Table
          ARN: !GetAtt Table.Arn
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /hello/{id}
            Method: get
            Auth:
              Authorizer: NONE
        Post:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /hello, Method: POST}
"#;

    #[test]
    fn short_form_tags_do_not_stop_the_reading() {
        let template = Template::parse(TEMPLATE).unwrap();
        let tables = template.tables().unwrap();
        assert_eq!(tables["Table"].key_schema[0].attribute_name, "PK");
        let functions = template.functions().unwrap();
        assert_eq!(functions.len(), 1);
        assert_eq!(functions[0].code_uri, "functions/hello");
        let routes = &functions[0].routes;
        assert!(routes.contains(&Route {
            method: "GET".into(),
            path: "/hello/{id}".into(),
            authorized: false
        }));
        assert!(routes.contains(&Route {
            method: "POST".into(),
            path: "/hello".into(),
            authorized: true
        }));
    }

    #[test]
    fn a_table_without_keys_is_reported_by_name() {
        let template = Template::parse(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n",
        )
        .unwrap();
        let err = template.tables().unwrap_err().to_string();
        assert!(err.starts_with("resource T:"), "{err}");
    }
}
