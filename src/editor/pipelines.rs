//! The console's pipeline lists: each Scope node's `pipelines/schemas` answer read into
//! `show::pipeline::PipelineInfo`s once per answer (the worker replaces its list only when it
//! changes, so a pointer comparison tells).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use scope::rest::PipelineSchema;
use show::NodeId;
use show::pipeline::PipelineInfo;

type Answer = Arc<BTreeMap<String, PipelineSchema>>;

#[derive(Default)]
pub(super) struct PipelineLists(HashMap<NodeId, (Answer, Arc<[PipelineInfo]>)>);

impl PipelineLists {
    /// `node`'s list, read again only when its worker published a new answer.
    pub fn get(&mut self, node: &NodeId, answer: Option<&Answer>) -> Option<Arc<[PipelineInfo]>> {
        let Some(answer) = answer else {
            self.0.remove(node);
            return None;
        };
        if let Some((seen, list)) = self.0.get(node)
            && Arc::ptr_eq(seen, answer)
        {
            return Some(list.clone());
        }
        let list: Arc<[PipelineInfo]> = answer.iter().map(|(id, s)| info(id, s)).collect();
        self.0.insert(node.clone(), (answer.clone(), list.clone()));
        Some(list)
    }
}

/// One schema entry as the console shows it.
pub fn info(id: &str, s: &PipelineSchema) -> PipelineInfo {
    let schema = s
        .extra
        .get("config_schema")
        .unwrap_or(&serde_json::Value::Null);
    PipelineInfo::new(id, &s.name, s.supports_vace, s.supports_prompts, schema)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use show::pipeline::{FieldKind, LoadValue};

    use super::*;

    /// The embedded server's answer, read as the worker reads it.
    fn answer() -> Answer {
        let v = scope_server::schemas_json()["pipelines"].clone();
        Arc::new(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn the_embedded_servers_schema_gives_every_kind_of_field() {
        let mut lists = PipelineLists::default();
        let a = answer();
        let node = NodeId::from("scope");
        let list = lists.get(&node, Some(&a)).unwrap();
        let stylize = list.iter().find(|p| p.id == "stylize").unwrap();
        assert_eq!(stylize.name, "Stylize");
        let kind = |k| &stylize.field(k).unwrap().kind;
        assert_eq!(
            *kind("width"),
            FieldKind::Integer {
                min: Some(16),
                max: Some(2048)
            }
        );
        assert_eq!(
            *kind("gamma"),
            FieldKind::Number {
                min: Some(0.25),
                max: Some(4.0)
            }
        );
        assert_eq!(*kind("keep_green"), FieldKind::Boolean);
        assert_eq!(
            *kind("tint"),
            FieldKind::Choice(vec!["violet".into(), "amber".into()])
        );
        let levels = stylize.field("levels").unwrap();
        assert!(levels.nullable && levels.default.is_none());
        assert_eq!(
            levels.kind,
            FieldKind::Integer {
                min: Some(2),
                max: Some(8)
            }
        );
        assert_eq!(
            stylize.field("tint").unwrap().default,
            Some(LoadValue::Text("violet".into()))
        );
        // The same answer is read once; a new one is read again; none forgets the node.
        assert!(Arc::ptr_eq(&list, &lists.get(&node, Some(&a)).unwrap()));
        assert!(!Arc::ptr_eq(
            &list,
            &lists.get(&node, Some(&answer())).unwrap()
        ));
        assert!(lists.get(&node, None).is_none());
    }
}
