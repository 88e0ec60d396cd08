//! The API's OpenAPI document (`api/openapi.yaml`): served by the local stack at `/openapi.yaml`
//! (the web app's `/docs.html` renders it), and read by the check that keeps it and the
//! template's routes in step.

use std::path::Path;

use serde_json::Value;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read the OpenAPI document {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the OpenAPI document {path} is not valid YAML: {source}")]
    Parse {
        path: String,
        source: serde_norway::Error,
    },
}

/// One operation: `GET /events/{eventId}` with what the document says of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub operation_id: String,
    pub summary: String,
    pub authorized: bool,
}

pub struct Spec {
    pub yaml: String,
    pub document: Value,
}

impl Spec {
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let yaml = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let document = serde_norway::from_str(&yaml).map_err(|source| SpecError::Parse {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { yaml, document })
    }

    /// Every operation under `paths`, in path then method order. An operation is authorized when
    /// it has a non-empty `security` of its own, or none and the document's is non-empty.
    pub fn operations(&self) -> Vec<Operation> {
        let secured = |security: Option<&Value>| {
            security
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty())
        };
        let default_secured = secured(self.document.get("security"));
        let mut operations = Vec::new();
        let Some(paths) = self.document.get("paths").and_then(Value::as_object) else {
            return operations;
        };
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let text = |key: &str| op.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    operation_id: text("operationId"),
                    summary: text("summary"),
                    authorized: match op.get("security") {
                        Some(s) => secured(Some(s)),
                        None => default_secured,
                    },
                });
            }
        }
        operations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Spec {
        Spec {
            yaml: yaml.into(),
            document: serde_norway::from_str(yaml).unwrap(),
        }
    }

    #[test]
    fn operations_take_the_documents_security_unless_they_set_their_own() {
        let s = spec(
            "openapi: 3.1.0\nsecurity: [{bearerAuth: []}]\npaths:\n  /events:\n    get: {operationId: List, summary: list, security: []}\n    post: {operationId: Create, summary: create}\n",
        );
        let ops = s.operations();
        assert_eq!(ops.len(), 2);
        assert!(!ops[0].authorized && ops[0].method == "GET");
        assert!(ops[1].authorized && ops[1].operation_id == "Create");
    }
}
