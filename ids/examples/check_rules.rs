//! Structural check of every `.rules` file in a directory:
//! `cargo run -p edgeward-ids --example check_rules -- "$(scripts/et-open.sh)"`
fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: check_rules DIR   (the shipped ET Open: \"$(scripts/et-open.sh)\")");
        std::process::exit(2);
    };
    let mut total = 0;
    let mut bad = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    entries.sort();
    for p in entries {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        for (line, rule) in edgeward_ids::syntax::enabled_rules(&text) {
            total += 1;
            if let Err(e) = edgeward_ids::syntax::check_rule(&rule) {
                bad += 1;
                if bad <= 10 {
                    println!("{name}:{line}: {e}");
                }
            }
        }
    }
    println!("{total} enabled rules, {bad} refused");
}
