//! A seeded generator of the seed plant's device metrics, one sample a minute.
//!
//! Every draw is XXH3 of (device, metric, minute) under a seed: the same seed gives the same
//! samples on every platform, and no draw depends on another, so any time range can be
//! generated on its own (as a host's 5-minute query would return it).

use fleetpath::health::SampleBatch;

/// The columns, in the order [`Plant::row`] fills them (sorted by name, as a batch keeps them).
pub(crate) const METRICS: [&str; 8] = [
    "component_crashes",
    "cpu_percent",
    "cycle_time_ms",
    "error_count",
    "memory_mb",
    "mqtt_connected",
    "quality_pass_rate",
    "units_produced",
];

/// What goes wrong after the update, if anything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    /// Memory climbs by this share of its level per hour on these devices.
    pub(crate) leak: Option<(Vec<String>, f64)>,
    /// Cycle time is this factor slower on this line.
    pub(crate) slow_line: Option<(String, f64)>,
}

/// A simulated device.
#[derive(Debug, Clone)]
pub(crate) struct SimDevice {
    /// Id.
    pub(crate) id: String,
    /// Line.
    pub(crate) line: String,
    /// When it was updated, unix seconds.
    pub(crate) updated_at: i64,
}

/// The plant's devices and what happens to them.
pub(crate) struct Plant {
    /// Seed of every draw.
    pub(crate) seed: u64,
    /// The devices.
    pub(crate) devices: Vec<SimDevice>,
    /// Faults after the update.
    pub(crate) faults: Faults,
}

fn hash(seed: u64, device: &str, metric: u64, minute: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let minute = minute as u64;
    let key = seed ^ metric.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ minute.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    xxhash_rust::xxh3::xxh3_64_with_seed(device.as_bytes(), key)
}

/// Uniform in [0, 1).
#[allow(clippy::cast_precision_loss)]
fn uniform(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// About standard normal: four 16-bit uniforms of one hash (Irwin-Hall, rescaled).
#[allow(clippy::cast_precision_loss)]
fn normal(h: u64) -> f64 {
    let s: f64 = (0..4).map(|k| ((h >> (16 * k)) & 0xFFFF) as f64 / 65536.0).sum();
    (s - 2.0) * 3.0f64.sqrt()
}

/// A device's own level, stable over time (lines and machines differ).
fn level(seed: u64, device: &str, metric: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * uniform(hash(seed, device, metric + 100, 0))
}

impl Plant {
    /// The eight metric values of a device at a minute (unix minutes), [`METRICS`] order.
    /// `errors` and `units` are the running counters, advanced by the caller minute by minute.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn row(&self, d: &SimDevice, minute: i64, counters: &mut (f64, f64)) -> [f64; 8] {
        let s = self.seed;
        let after = minute * 60 >= d.updated_at;
        let hours_after = (minute * 60 - d.updated_at) as f64 / 3600.0;
        let restarted = after && minute * 60 - d.updated_at < 60;
        if restarted {
            *counters = (0.0, 0.0);
        }
        let mut cycle = level(s, &d.line, 2, 700.0, 900.0) * (1.0 + 0.02 * normal(hash(s, &d.id, 2, minute)));
        if let Some((line, factor)) = &self.faults.slow_line
            && after
            && &d.line == line
        {
            cycle *= factor;
        }
        let base_mem = level(s, &d.id, 4, 280.0, 340.0);
        let mut memory = base_mem + 4.0 * normal(hash(s, &d.id, 4, minute)) + if after { 6.0 } else { 0.0 };
        if let Some((devices, per_hour)) = &self.faults.leak
            && after
            && devices.contains(&d.id)
        {
            memory += base_mem * per_hour * hours_after;
        }
        if uniform(hash(s, &d.id, 3, minute)) < 0.05 {
            counters.0 += 1.0;
        }
        // Units: one every cycle, so a slower cycle makes fewer.
        counters.1 += (60_000.0 / cycle).floor();
        let connected = if uniform(hash(s, &d.id, 5, minute)) < 0.004 { 0.0 } else { 1.0 };
        let quality = (0.985 + 0.005 * normal(hash(s, &d.id, 6, minute))).clamp(0.0, 1.0);
        let cpu = 35.0 + 4.0 * normal(hash(s, &d.id, 1, minute));
        [0.0, cpu, cycle, counters.0, memory, connected, quality, counters.1]
    }

    /// Every device's rows for unix minutes `from..to`, device by device. `counters` holds
    /// each device's running (errors, units), carried from one call to the next;
    /// start with `(-1.0, -1.0)`.
    pub(crate) fn batch(&self, from: i64, to: i64, counters: &mut [(f64, f64)]) -> SampleBatch {
        let mut batch = SampleBatch::new(&METRICS);
        for (d, c) in self.devices.iter().zip(counters.iter_mut()) {
            if c.0 < 0.0 {
                // First call: the counters stand wherever the device's uptime left them.
                *c = (level(self.seed, &d.id, 7, 0.0, 5000.0).floor(), level(self.seed, &d.id, 8, 0.0, 1e6).floor());
            }
            for minute in from..to {
                batch.push(&d.id, minute * 60, &self.row(d, minute, c));
            }
        }
        batch
    }
}
