//! Synthetic upgrade graphs and fleets shared by the benches.
#![allow(dead_code)] // each bench uses a subset of the helpers

use std::collections::VecDeque;
use std::fmt::Write as _;

/// A vendor-style version for release `i`, increasing with `i` (leading zeros included).
pub(crate) fn version(i: usize) -> String {
    format!("{}.{}.{:03}", i / 1000, (i / 100) % 10, i % 100)
}

/// A deterministic pseudo-random sequence (no `rand` dependency, no clock).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap_or(0) % below.max(1)
    }
}

/// The edges of a synthetic graph: about `per_release` upgrade edges out of each release,
/// each to a release 1..=50 steps newer, plus one to the next release so every release can
/// reach the newest.
pub(crate) fn edges(n: usize, per_release: usize) -> Vec<(usize, usize)> {
    let mut rng = Lcg(42);
    let mut out = Vec::with_capacity(n * per_release);
    for i in 0..n.saturating_sub(1) {
        let mut targets = vec![i + 1];
        for _ in 1..per_release {
            let t = (i + 1 + rng.next(50)).min(n - 1);
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        out.extend(targets.into_iter().map(|t| (i, t)));
    }
    out
}

/// A manifest with `n` releases (two hardware models, 1% blocked) and `edges(n, 10)`.
pub(crate) fn manifest_json(n: usize) -> String {
    let mut rng = Lcg(7);
    let mut s = String::with_capacity(n * 260);
    s.push_str("{\"format_version\": 1, \"name\": \"synthetic\", \"releases\": [\n");
    for i in 0..n {
        let models = if i % 3 == 0 { "[\"m0\"]" } else { "[\"m0\", \"m1\"]" };
        let status = if i % 100 == 50 { ", \"status\": \"blocked\", \"reason\": \"recalled\"" } else { "" };
        let sha: String = (0..64).map(|_| char::from(b"0123456789abcdef"[rng.next(16)])).collect();
        let _ = writeln!(
            s,
            "{}{{\"version\": \"{}\", \"models\": {models}{status}, \"labels\": {{\"protocol\": \"mqtt\"}}, \
             \"artifact\": {{\"key\": \"fw/{i}.bin\", \"sha256\": \"{sha}\", \"size\": {}}}}}",
            if i > 0 { "," } else { "" },
            version(i),
            1_000_000 + i
        );
    }
    s.push_str("], \"edges\": [\n");
    for (k, (a, b)) in edges(n, 10).into_iter().enumerate() {
        let _ =
            writeln!(s, "{}{{\"from\": \"{}\", \"to\": \"{}\"}}", if k > 0 { "," } else { "" }, version(a), version(b));
    }
    s.push_str("]}\n");
    s
}

/// The plain baseline: forward adjacency lists of the same graph.
pub(crate) fn adjacency(n: usize) -> Vec<Vec<u32>> {
    let mut adj = vec![Vec::new(); n];
    for (a, b) in edges(n, 10) {
        adj[a].push(u32::try_from(b).unwrap_or(u32::MAX));
    }
    adj
}

/// The plain baseline: reverse adjacency lists of the same graph.
pub(crate) fn reverse_adjacency(n: usize) -> Vec<Vec<u32>> {
    let mut adj = vec![Vec::new(); n];
    for (a, b) in edges(n, 10) {
        adj[b].push(u32::try_from(a).unwrap_or(u32::MAX));
    }
    adj
}

/// The plain baseline: breadth-first search over adjacency lists, returning distances.
pub(crate) fn plain_bfs(adj: &[Vec<u32>], start: u32) -> Vec<u32> {
    let mut dist = vec![u32::MAX; adj.len()];
    dist[start as usize] = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        let d = dist[u as usize] + 1;
        for &v in &adj[u as usize] {
            if dist[v as usize] == u32::MAX {
                dist[v as usize] = d;
                queue.push_back(v);
            }
        }
    }
    dist
}

/// A fleet of `devices` IP modules (model `IPM-1`) spread over `lines` lines; device `i` runs
/// `versions[pick(i)]`.
pub(crate) fn fleet(
    devices: usize,
    lines: usize,
    versions: &[&str],
    pick: impl Fn(usize) -> usize,
) -> fleetpath::Fleet {
    let versions: Vec<fleetpath::Version> = versions.iter().map(|v| v.parse().unwrap()).collect();
    let line_names: Vec<std::sync::Arc<str>> = (0..lines).map(|l| format!("line-{l:03}").into()).collect();
    fleetpath::Fleet::new(
        (0..devices)
            .map(|i| fleetpath::Device {
                id: format!("device-{i:07}"),
                model: "IPM-1".into(),
                line: line_names[(i * 7919) % lines].clone(),
                site: None,
                version: versions[pick(i)].clone(),
                labels: std::collections::BTreeMap::new(),
            })
            .collect(),
    )
    .unwrap()
}
