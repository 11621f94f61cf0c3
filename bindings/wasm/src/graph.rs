//! `UpgradeGraph` and `RouteTable`.

use fleetpath::graph::cincinnati::CincinnatiGraph;
use fleetpath::{Constraints, Path};
use wasm_bindgen::prelude::*;

use crate::convert::{absent, count, document, opt_document, opt_js, opt_text, text, to_js, version};
use crate::version::Version;
use crate::{Result, core};

/// A validated upgrade graph: releases, edges, barriers, blocked releases and hops.
#[wasm_bindgen]
pub struct UpgradeGraph {
    pub(crate) inner: fleetpath::UpgradeGraph,
}

fn highlight(path: &JsValue) -> Result<Option<Path>> {
    if absent(path) { Ok(None) } else { document(path, "path").map(Some) }
}

#[wasm_bindgen]
impl UpgradeGraph {
    /// Loads a manifest: its JSON text, bytes, or the object.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] manifest: JsValue,
    ) -> Result<UpgradeGraph> {
        Ok(Self { inner: document(&manifest, "manifest")? })
    }

    /// `UpgradeGraph.load` as a promise, as the Node package has it (there it runs off the
    /// event loop; here, on one thread, before the promise settles). Rejects with the error
    /// `load` throws.
    #[wasm_bindgen(js_name = "loadAsync")]
    #[allow(clippy::unused_async)] // async for its promise: the Node package's signature
    pub async fn load_async(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] manifest: JsValue,
    ) -> Result<UpgradeGraph> {
        Self::load(manifest)
    }

    /// Reads a Cincinnati graph (`nodes`, `edges`, `conditionalEdges`): text, bytes or the
    /// object. Channels become models; a conditional edge a blocked hop naming its risks.
    #[wasm_bindgen(js_name = "fromCincinnati")]
    pub fn from_cincinnati(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | object")] graph: JsValue,
    ) -> Result<UpgradeGraph> {
        let graph: CincinnatiGraph = document(&graph, "cincinnati graph")?;
        Ok(Self { inner: graph.to_manifest().and_then(fleetpath::UpgradeGraph::new).map_err(core)? })
    }

    /// The graph as a Cincinnati client of `model` (a channel; any model when absent) sees it.
    #[wasm_bindgen(js_name = "toCincinnati", unchecked_return_type = "CincinnatiGraph")]
    pub fn to_cincinnati(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] model: JsValue,
    ) -> Result<JsValue> {
        to_js(&self.inner.to_cincinnati(opt_text(&model, "model")?.as_deref()))
    }

    /// The manifest's name, or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn name(&self) -> JsValue {
        self.inner.name().map_or(JsValue::NULL, JsValue::from)
    }

    /// How many releases it holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.releases().len())
    }

    /// Every release, oldest first.
    #[wasm_bindgen(unchecked_return_type = "Release[]")]
    pub fn releases(&self) -> Result<JsValue> {
        to_js(self.inner.releases())
    }

    /// The release `version`, or `null`.
    #[wasm_bindgen(unchecked_return_type = "Release | null")]
    pub fn release(
        &self,
        #[wasm_bindgen(js_name = "version", unchecked_param_type = "Version | string")] version_: JsValue,
    ) -> Result<JsValue> {
        opt_js(self.inner.release(&version(&version_, "version")?))
    }

    /// The hardware models any release names.
    pub fn models(&self) -> Vec<String> {
        self.inner.models().into_iter().map(str::to_owned).collect()
    }

    /// The newest installable release for `model`; throws `no_release_for_model` (saying
    /// whether the graph names the model) or `empty_model`.
    #[wasm_bindgen(js_name = "latestFor")]
    pub fn latest_for(&self, #[wasm_bindgen(unchecked_param_type = "string")] model: JsValue) -> Result<Version> {
        let model = text(&model, "model")?;
        Ok(Version { inner: self.inner.latest_for(&model).map_err(core)?.version().clone() })
    }

    /// Every upgrade edge (range edges expanded, blocked hops left out), by source then target.
    #[wasm_bindgen(unchecked_return_type = "Edge[]")]
    pub fn edges(&self) -> Result<JsValue> {
        to_js(&self.inner.edges().collect::<Vec<_>>())
    }

    /// The path from `from` to `to`; throws `no_path` (with the reason) when there is none.
    #[wasm_bindgen(unchecked_return_type = "Path")]
    pub fn resolve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Constraints")] constraints: JsValue,
    ) -> Result<JsValue> {
        let constraints: Constraints = opt_document(&constraints, "constraints")?;
        to_js(&self.inner.resolve(&version(&from, "from")?, &version(&to, "to")?, &constraints).map_err(core)?)
    }

    /// The first hop from `from` toward `to`, or `null` when `from` is `to`.
    #[wasm_bindgen(js_name = "nextHop", unchecked_return_type = "Hop | null")]
    pub fn next_hop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Constraints")] constraints: JsValue,
    ) -> Result<JsValue> {
        let constraints: Constraints = opt_document(&constraints, "constraints")?;
        let hop = self.inner.next_hop(&version(&from, "from")?, &version(&to, "to")?, &constraints).map_err(core)?;
        opt_js(hop.as_ref())
    }

    /// The route back from `from` to the older `to` (downgrade edges), for `model` if given.
    #[wasm_bindgen(js_name = "rollbackRoute", unchecked_return_type = "Path")]
    pub fn rollback_route(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] model: JsValue,
    ) -> Result<JsValue> {
        let model = opt_text(&model, "model")?;
        let route = fleetpath::rollback::rollback_route(
            &self.inner,
            &version(&from, "from")?,
            &version(&to, "to")?,
            model.as_deref(),
        );
        to_js(&route.map_err(core)?)
    }

    /// Every release's next hop toward `to`, computed once.
    #[wasm_bindgen(js_name = "routeTable")]
    pub fn route_table(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Constraints")] constraints: JsValue,
    ) -> Result<RouteTable> {
        let constraints: Constraints = opt_document(&constraints, "constraints")?;
        let inner = self.inner.route_table(&version(&to, "to")?, &constraints).map_err(core)?;
        Ok(RouteTable { inner })
    }

    /// The manifest's lint findings, most severe first.
    #[wasm_bindgen(unchecked_return_type = "LintFinding[]")]
    pub fn lint(&self) -> Result<JsValue> {
        to_js(&self.inner.lint())
    }

    /// `lint`, and the edge risks checked against the devices of `fleet`.
    #[wasm_bindgen(js_name = "lintFleet", unchecked_return_type = "LintFinding[]")]
    pub fn lint_fleet(&self, fleet: &crate::fleet::Fleet) -> Result<JsValue> {
        to_js(&self.inner.lint_fleet(&fleet.inner))
    }

    /// The graph in Graphviz DOT, `path` highlighted when given (labels escaped).
    #[wasm_bindgen(js_name = "toDot")]
    pub fn to_dot(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Path | null")] path: JsValue,
    ) -> Result<String> {
        Ok(self.inner.to_dot(highlight(&path)?.as_ref()))
    }

    /// The graph as a Mermaid flowchart, `path` highlighted when given (labels escaped).
    #[wasm_bindgen(js_name = "toMermaid")]
    pub fn to_mermaid(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Path | null")] path: JsValue,
    ) -> Result<String> {
        Ok(self.inner.to_mermaid(highlight(&path)?.as_ref()))
    }

    /// The manifest as JSON text (the form it loads from).
    #[wasm_bindgen(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        self.inner.to_manifest().to_json()
    }
}

/// Every release's next hop toward one target, for answering many devices.
#[wasm_bindgen]
pub struct RouteTable {
    inner: fleetpath::RouteTable,
}

#[wasm_bindgen]
impl RouteTable {
    /// The target version.
    #[wasm_bindgen(getter)]
    pub fn target(&self) -> Version {
        Version { inner: self.inner.target().clone() }
    }

    /// The next hop from `from`, or `null` at the target; throws `no_path` when unreachable.
    #[wasm_bindgen(js_name = "nextHop", unchecked_return_type = "Hop | null")]
    pub fn next_hop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue,
    ) -> Result<JsValue> {
        opt_js(self.inner.next_hop(&version(&from, "from")?).map_err(core)?.as_ref())
    }

    /// The whole path from `from` to the target.
    #[wasm_bindgen(unchecked_return_type = "Path")]
    pub fn resolve(&self, #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue) -> Result<JsValue> {
        to_js(&self.inner.resolve(&version(&from, "from")?).map_err(core)?)
    }

    /// How many hops from `from` to the target, or `null` when unreachable.
    #[wasm_bindgen(unchecked_return_type = "number | null")]
    pub fn hops(&self, #[wasm_bindgen(unchecked_param_type = "Version | string")] from: JsValue) -> Result<JsValue> {
        Ok(self.inner.hops(&version(&from, "from")?).map_or(JsValue::NULL, JsValue::from))
    }

    /// Every row: `{from, next, hops}`.
    #[wasm_bindgen(unchecked_return_type = "RouteEntry[]")]
    pub fn entries(&self) -> Result<JsValue> {
        to_js(&self.inner.entries())
    }
}
