//! `api/openapi.yaml` and the template kept in step, the document served by the local stack, and
//! the API fuzzed from it.

use std::collections::BTreeMap;

use local::{
    openapi::Spec,
    stack::{Options, SPEC_PATH, Stack},
    template::{Template, repository_root},
};

fn spec() -> Spec {
    Spec::load(&repository_root().join(SPEC_PATH)).unwrap()
}

#[test]
fn every_template_route_is_in_the_spec_and_nothing_else_is() {
    let functions = Template::of_repository().unwrap().functions().unwrap();
    // route key → (operation id, needs a token), from each side.
    let in_template: BTreeMap<String, (String, bool)> = functions
        .iter()
        .flat_map(|f| {
            f.routes.iter().map(|r| {
                (
                    format!("{} {}", r.method, r.path),
                    (f.logical_id.clone(), r.authorized),
                )
            })
        })
        .collect();
    let in_spec: BTreeMap<String, (String, bool)> = spec()
        .operations()
        .into_iter()
        .map(|o| {
            (
                format!("{} {}", o.method, o.path),
                (o.operation_id, o.authorized),
            )
        })
        .collect();
    let missing: Vec<&String> = in_template
        .keys()
        .filter(|k| !in_spec.contains_key(*k))
        .collect();
    let extra: Vec<&String> = in_spec
        .keys()
        .filter(|k| !in_template.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes missing from {SPEC_PATH}: {missing:?}; in the spec but not in template.yaml: {extra:?}"
    );
    for (route, template_side) in &in_template {
        assert_eq!(
            &in_spec[route], template_side,
            "{route}: (operationId, needs a token) in the spec and the template's (function, auth)"
        );
    }
}

#[tokio::test]
async fn the_local_stack_serves_the_spec_and_a_page_of_its_operations() {
    let stack = Stack::start(Options {
        queues: false,
        ..Options::default()
    })
    .await
    .unwrap();
    let api = stack.api_url().to_owned();
    let yaml = reqwest::get(format!("{api}/openapi.yaml")).await.unwrap();
    assert_eq!(yaml.status(), 200);
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    assert_eq!(yaml.text().await.unwrap(), spec().yaml);
    let page = reqwest::get(format!("{api}/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for operation in spec().operations() {
        assert!(
            page.contains(&operation.operation_id),
            "/docs lists {}",
            operation.operation_id
        );
    }
    stack.stop().await;
}
