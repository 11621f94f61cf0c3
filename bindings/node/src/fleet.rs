//! `Fleet`.

use napi_derive::napi;

use napi::bindgen_prelude::AsyncTask;

use crate::convert::{Doc, Held, Holds as _, Json, Load, Source, count, document, holds, text_of, to_js};
use crate::graph::UpgradeGraph;
use crate::{Result, core, guard};

/// A fleet from CSV or JSON text (told apart by the first character), as a string or UTF-8
/// bytes, or its JSON value.
fn read(fleet: Source) -> Result<fleetpath::Fleet> {
    match fleet {
        Source::Bytes(bytes) => fleetpath::Fleet::from_text(text_of(&bytes, "Fleet.load")?).map_err(core),
        Source::Doc(Doc::Text(text)) => fleetpath::Fleet::from_text(&text).map_err(core),
        // Any other value: the document, or its list of devices alone.
        Source::Doc(doc) => document(doc),
    }
}

/// A fleet: devices with model, production line, site and version, as the registry records them.
#[napi(custom_finalize)]
pub struct Fleet {
    pub(crate) inner: fleetpath::Fleet,
    held: Held,
}

impl Fleet {
    fn new(inner: fleetpath::Fleet) -> Self {
        Self { inner, held: Held::default() }
    }
}

holds!(Fleet);

/// A production line and how many devices it holds.
#[napi(object)]
pub struct LineCount {
    /// The line.
    pub line: String,
    /// Its devices.
    pub devices: u32,
}

#[napi]
impl Fleet {
    /// Loads a fleet: CSV or JSON text (told apart by the first character), bytes, the
    /// `{"devices": [...]}` object or an array of devices.
    #[napi(factory, ts_args_type = "fleet: string | Uint8Array | object | object[]")]
    pub fn load(env: napi::Env, fleet: Source) -> Result<Self> {
        guard(|| Ok(Self::new(read(fleet)?).told(env)))
    }

    /// `Fleet.load` on libuv's thread pool: the event loop stays free while a big fleet is
    /// read. Rejects with the error `load` throws.
    #[napi(ts_args_type = "fleet: string | Uint8Array | object | object[]", ts_return_type = "Promise<Fleet>")]
    pub fn load_async(fleet: Doc) -> AsyncTask<Load<Fleet>> {
        AsyncTask::new(Load::new(fleet, |fleet| Ok(Self::new(read(Source::Doc(fleet))?))))
    }

    /// Reads a fleet from CSV text (`id,model,line,version[,site]`, any column order).
    #[napi(factory)]
    pub fn from_csv(env: napi::Env, csv: String) -> Result<Self> {
        guard(|| fleetpath::Fleet::from_csv(&csv).map(|inner| Self::new(inner).told(env)).map_err(core))
    }

    /// How many devices it holds.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        count(self.inner.len())
    }

    /// Every device, in the order given.
    #[napi(ts_return_type = "Device[]")]
    pub fn devices(&self) -> Result<Json> {
        guard(|| to_js(&self.inner.devices()))
    }

    /// The device ids, in the order given (no object per device).
    #[napi]
    pub fn ids(&self) -> Vec<String> {
        self.inner.ids().map(str::to_owned).collect()
    }

    /// The device `id`, or `null`.
    #[napi(ts_return_type = "Device | null")]
    pub fn get(&self, id: String) -> Result<Json> {
        guard(|| self.inner.get(&id).map_or(Ok(Json::null()), |d| to_js(&d)))
    }

    /// Where the device `id` was stated (`row 3`, `devices[2]`), or `null`.
    #[napi]
    pub fn origin(&self, id: String) -> Option<String> {
        self.inner.origin(&id)
    }

    /// The production lines and their sizes.
    #[napi]
    pub fn lines(&self) -> Vec<LineCount> {
        self.inner.lines().into_iter().map(|(l, n)| LineCount { line: l.to_owned(), devices: count(n) }).collect()
    }

    /// Throws when a device runs a version or model the graph does not know.
    #[napi]
    pub fn check_against(&self, graph: &UpgradeGraph) -> Result<()> {
        guard(|| self.inner.check_against(&graph.inner).map_err(core))
    }

    /// The fleet as CSV text.
    #[napi]
    pub fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    /// The fleet as JSON text.
    #[napi(js_name = "toJSONText")]
    pub fn to_json_text(&self) -> String {
        self.inner.to_json()
    }
}
