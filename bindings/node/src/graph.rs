//! `UpgradeGraph` and `RouteTable`.

use fleetpath::graph::cincinnati::CincinnatiGraph;
use fleetpath::{Constraints, Path};
use napi_derive::napi;

use napi::bindgen_prelude::AsyncTask;

use crate::convert::{
    Doc, Held, Holds as _, Json, Load, Source, count, document, document_from, holds, opt_document, to_js, version,
};
use crate::version::Version;
use crate::{Result, core, guard};

/// A validated upgrade graph: releases, edges, barriers, blocked releases and hops.
#[napi(custom_finalize)]
pub struct UpgradeGraph {
    pub(crate) inner: fleetpath::UpgradeGraph,
    held: Held,
}

impl UpgradeGraph {
    fn new(inner: fleetpath::UpgradeGraph) -> Self {
        Self { inner, held: Held::default() }
    }
}

holds!(UpgradeGraph);

fn highlight(path: Option<Doc>) -> Result<Option<Path>> {
    path.filter(|p| !p.is_null()).map(document::<Path>).transpose()
}

#[napi]
impl UpgradeGraph {
    /// Loads a manifest: its JSON text, bytes, or the object.
    #[napi(factory, ts_args_type = "manifest: string | Uint8Array | object")]
    pub fn load(env: napi::Env, manifest: Source) -> Result<Self> {
        guard(|| Ok(Self::new(document_from(manifest, "UpgradeGraph.load")?).told(env)))
    }

    /// `UpgradeGraph.load` on libuv's thread pool: the event loop stays free while a big
    /// manifest is read. Rejects with the error `load` throws.
    #[napi(ts_args_type = "manifest: string | Uint8Array | object", ts_return_type = "Promise<UpgradeGraph>")]
    pub fn load_async(manifest: Doc) -> AsyncTask<Load<UpgradeGraph>> {
        AsyncTask::new(Load::new(manifest, |manifest| Ok(Self::new(document(manifest)?))))
    }

    /// Reads a Cincinnati graph (`nodes`, `edges`, `conditionalEdges`): text, bytes or the
    /// object. Channels become models; a conditional edge a blocked hop naming its risks.
    #[napi(factory, ts_args_type = "graph: string | Uint8Array | object")]
    pub fn from_cincinnati(env: napi::Env, graph: Doc) -> Result<Self> {
        let load = |g: CincinnatiGraph| g.to_manifest().and_then(fleetpath::UpgradeGraph::new).map_err(core);
        guard(|| Ok(Self::new(load(document(graph)?)?).told(env)))
    }

    /// The graph as a Cincinnati client of `model` (a channel; any model when absent) sees it.
    #[napi(ts_return_type = "CincinnatiGraph")]
    pub fn to_cincinnati(&self, model: Option<String>) -> Result<Json> {
        guard(|| to_js(&self.inner.to_cincinnati(model.as_deref())))
    }

    /// The manifest's name, if it has one.
    #[napi(getter)]
    pub fn name(&self) -> Option<String> {
        self.inner.name().map(str::to_owned)
    }

    /// How many releases it holds.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.releases().len())
    }

    /// Every release, oldest first.
    #[napi(ts_return_type = "Release[]")]
    pub fn releases(&self) -> Result<Json> {
        guard(|| to_js(self.inner.releases()))
    }

    /// The release `version`, or `null`.
    #[napi(ts_args_type = "version: Version | string", ts_return_type = "Release | null")]
    pub fn release(&self, version_: String) -> Result<Json> {
        guard(|| self.inner.release(&version(&version_)?).map_or(Ok(Json::null()), to_js))
    }

    /// The hardware models any release names.
    #[napi]
    pub fn models(&self) -> Vec<String> {
        self.inner.models().into_iter().map(str::to_owned).collect()
    }

    /// The newest installable release for `model`; throws `no_release_for_model` (saying
    /// whether the graph names the model) or `empty_model`.
    #[napi]
    pub fn latest_for(&self, model: String) -> Result<Version> {
        guard(|| Ok(Version { inner: self.inner.latest_for(&model).map_err(core)?.version().clone() }))
    }

    /// Every upgrade edge (range edges expanded, blocked hops left out), by source then target.
    #[napi(ts_return_type = "Edge[]")]
    pub fn edges(&self) -> Result<Json> {
        guard(|| to_js(&self.inner.edges().collect::<Vec<_>>()))
    }

    /// The path from `from` to `to`; throws `no_path` (with the reason) when there is none.
    #[napi(
        ts_args_type = "from: Version | string, to: Version | string, constraints?: Constraints",
        ts_return_type = "Path"
    )]
    pub fn resolve(&self, from: String, to: String, constraints: Option<Doc>) -> Result<Json> {
        guard(|| {
            let constraints: Constraints = opt_document(constraints)?;
            to_js(&self.inner.resolve(&version(&from)?, &version(&to)?, &constraints).map_err(core)?)
        })
    }

    /// The first hop from `from` toward `to`, or `null` when `from` is `to`.
    #[napi(
        ts_args_type = "from: Version | string, to: Version | string, constraints?: Constraints",
        ts_return_type = "Hop | null"
    )]
    pub fn next_hop(&self, from: String, to: String, constraints: Option<Doc>) -> Result<Json> {
        guard(|| {
            let constraints: Constraints = opt_document(constraints)?;
            let hop = self.inner.next_hop(&version(&from)?, &version(&to)?, &constraints).map_err(core)?;
            hop.map_or(Ok(Json::null()), |h| to_js(&h))
        })
    }

    /// The route back from `from` to the older `to` (downgrade edges), for `model` if given.
    #[napi(
        ts_args_type = "from: Version | string, to: Version | string, model?: string | null",
        ts_return_type = "Path"
    )]
    pub fn rollback_route(&self, from: String, to: String, model: Option<String>) -> Result<Json> {
        guard(|| {
            let route =
                fleetpath::rollback::rollback_route(&self.inner, &version(&from)?, &version(&to)?, model.as_deref());
            to_js(&route.map_err(core)?)
        })
    }

    /// Every release's next hop toward `to`, computed once.
    #[napi(ts_args_type = "to: Version | string, constraints?: Constraints")]
    pub fn route_table(&self, to: String, constraints: Option<Doc>) -> Result<RouteTable> {
        guard(|| {
            let constraints: Constraints = opt_document(constraints)?;
            let inner = self.inner.route_table(&version(&to)?, &constraints).map_err(core)?;
            Ok(RouteTable { inner })
        })
    }

    /// The manifest's lint findings, most severe first.
    #[napi(ts_return_type = "LintFinding[]")]
    pub fn lint(&self) -> Result<Json> {
        guard(|| to_js(&self.inner.lint()))
    }

    /// `lint`, and the edge risks checked against the devices of `fleet`.
    #[napi(ts_return_type = "LintFinding[]")]
    pub fn lint_fleet(&self, fleet: &crate::fleet::Fleet) -> Result<Json> {
        guard(|| to_js(&self.inner.lint_fleet(&fleet.inner)))
    }

    /// The graph in Graphviz DOT, `path` highlighted when given (labels escaped).
    #[napi(ts_args_type = "path?: Path | null")]
    pub fn to_dot(&self, path: Option<Doc>) -> Result<String> {
        guard(|| Ok(self.inner.to_dot(highlight(path)?.as_ref())))
    }

    /// The graph as a Mermaid flowchart, `path` highlighted when given (labels escaped).
    #[napi(ts_args_type = "path?: Path | null")]
    pub fn to_mermaid(&self, path: Option<Doc>) -> Result<String> {
        guard(|| Ok(self.inner.to_mermaid(highlight(path)?.as_ref())))
    }

    /// The manifest as JSON text (the form it loads from).
    #[napi(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        self.inner.to_manifest().to_json()
    }
}

/// Every release's next hop toward one target, for answering many devices.
#[napi]
pub struct RouteTable {
    inner: fleetpath::RouteTable,
}

#[napi]
impl RouteTable {
    /// The target version.
    #[napi(getter)]
    pub fn target(&self) -> Version {
        Version { inner: self.inner.target().clone() }
    }

    /// The next hop from `from`, or `null` at the target; throws `no_path` when unreachable.
    #[napi(ts_args_type = "from: Version | string", ts_return_type = "Hop | null")]
    pub fn next_hop(&self, from: String) -> Result<Json> {
        guard(|| self.inner.next_hop(&version(&from)?).map_err(core)?.map_or(Ok(Json::null()), |h| to_js(&h)))
    }

    /// The whole path from `from` to the target.
    #[napi(ts_args_type = "from: Version | string", ts_return_type = "Path")]
    pub fn resolve(&self, from: String) -> Result<Json> {
        guard(|| to_js(&self.inner.resolve(&version(&from)?).map_err(core)?))
    }

    /// How many hops from `from` to the target, or `null` when unreachable.
    #[napi(ts_args_type = "from: Version | string")]
    pub fn hops(&self, from: String) -> Result<Option<u32>> {
        guard(|| Ok(self.inner.hops(&version(&from)?)))
    }

    /// Every row: `{from, next, hops}`.
    #[napi(ts_return_type = "RouteEntry[]")]
    pub fn entries(&self) -> Result<Json> {
        guard(|| to_js(&self.inner.entries()))
    }
}
