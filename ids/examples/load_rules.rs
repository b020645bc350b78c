//! Load a rules directory and print the load report: `cargo run --release -p edgeward-ids --example load_rules -- DIR`.
fn main() {
    let dir = std::env::args().nth(1).expect("usage: load_rules DIR");
    let t = std::time::Instant::now();
    let loaded = edgeward_ids::loader::LoadedRules::load(
        std::path::Path::new(&dir),
        &edgeward_ids::vars::Vars::default(),
    )
    .expect("load");
    println!("{}", loaded.report.table());
    for e in loaded.report.errors.iter().take(40) {
        println!("{e}");
    }
    println!("parsed in {:?}", t.elapsed());
}
