//! Sentences for people in both UI languages. The admin UI speaks Vietnamese by default and
//! English on request; machine outputs (the CLI, the API's `message`, events, syslog) stay in
//! English. A [`Text`] holds one sentence in both, made at the place that knows its arguments
//! with [`say!`](crate::say), and is rendered in the reader's language where it is shown.

use std::fmt;

/// A reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// One sentence in English and Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub en: String,
    pub vi: String,
}

impl Text {
    pub fn new(en: impl Into<String>, vi: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            vi: vi.into(),
        }
    }
    /// The sentence in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// English, for logs and machine outputs.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// A [`Text`] from an English and a Vietnamese format string sharing the same arguments:
/// `say!("zone `{name}` is unknown", "vùng mạng `{name}` không tồn tại")`. Values a person
/// typed into the configuration go between backticks; the UI shows them as code.
#[macro_export]
macro_rules! say {
    ($en:literal, $vi:literal $(,)?) => {
        $crate::text::Text::new(format!($en), format!($vi))
    };
    ($en:literal, $vi:literal, $($arg:tt)+) => {
        $crate::text::Text::new(format!($en, $($arg)+), format!($vi, $($arg)+))
    };
}

/// The five regulations the product enforces, by the number they are cited with in code and
/// tests (`004 §7.2`), with the names an admin recognises (shared/REQUIREMENTS.md).
pub const REGULATIONS: &[(&str, &str, &str)] = &[
    (
        "000",
        "Quy chế bảo đảm an ninh mạng, an toàn thông tin tỉnh Lào Cai (2026)",
        "Lào Cai cyber-security regulation (2026)",
    ),
    (
        "001",
        "Quy chế bảo đảm an toàn thông tin mạng tỉnh Lào Cai (Quyết định 61/2021/QĐ-UBND)",
        "Lào Cai information security regulation (Decision 61/2021/QĐ-UBND)",
    ),
    (
        "002",
        "Quy chế phối hợp bảo đảm an ninh, an toàn hệ thống thông tin tỉnh Bắc Giang (Quyết định 48/2024/QĐ-UBND)",
        "Bắc Giang security coordination regulation (Decision 48/2024/QĐ-UBND)",
    ),
    (
        "003",
        "Quy chế vận hành Trung tâm Tích hợp dữ liệu tỉnh Bắc Kạn (Quyết định 11/2023/QĐ-UBND)",
        "Bắc Kạn provincial data centre regulation (Decision 11/2023/QĐ-UBND)",
    ),
    (
        "004",
        "Quy chế bảo đảm an toàn thông tin mạng tỉnh Hải Dương (Quyết định 39/2024/QĐ-UBND)",
        "Hải Dương information security regulation (Decision 39/2024/QĐ-UBND)",
    ),
];

/// One citation in words: `("004", "7.2")` → "Quy chế … Hải Dương (…), Điều 7 khoản 2".
pub fn cite(doc: &str, article: &str, lang: Lang) -> Option<String> {
    let (_, vi, en) = REGULATIONS.iter().find(|(n, _, _)| *n == doc)?;
    let mut parts = article.split('.');
    let number = parts.next().filter(|n| !n.is_empty())?;
    let clause = parts.next();
    let point = parts.next();
    Some(match lang {
        Lang::Vi => {
            let mut s = format!("{vi}, Điều {number}");
            if let Some(c) = clause {
                s.push_str(&format!(" khoản {c}"));
            }
            if let Some(p) = point {
                s.push_str(&format!(" điểm {p}"));
            }
            s
        }
        Lang::En => {
            let mut s = format!("{en}, Article {number}");
            if let Some(c) = clause {
                s.push_str(&format!("({c})"));
            }
            if let Some(p) = point {
                s.push_str(&format!("({p})"));
            }
            s
        }
    })
}

/// `text` with every internal reference (`004 §7.2`, `000 §5.6.b`, `000 Phụ lục I`) written
/// out in words from [`REGULATIONS`]; anything else is left as it is.
pub fn cite_all(text: &str, lang: Lang) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = find_reference(rest) {
        out.push_str(&rest[..at]);
        let doc = &rest[at..at + 3];
        let after = &rest[at + 3..];
        if let Some(annex) = after
            .strip_prefix(" Phụ lục ")
            .or_else(|| after.strip_prefix(" Annex "))
        {
            let roman: String = annex.chars().take_while(|c| "IVX".contains(*c)).collect();
            let (_, vi, en) = REGULATIONS
                .iter()
                .find(|(n, _, _)| *n == doc)
                .copied()
                .unwrap_or(("", "", ""));
            match lang {
                Lang::Vi => out.push_str(&format!("{vi}, Phụ lục {roman}")),
                Lang::En => out.push_str(&format!("{en}, Annex {roman}")),
            }
            rest = &annex[roman.len()..];
            continue;
        }
        let article_len = after[" §".len()..]
            .char_indices()
            .take_while(|(i, c)| {
                c.is_ascii_digit()
                    || *c == 'đ'
                    || c.is_ascii_lowercase()
                    || (*c == '.'
                        && after[" §".len() + i + 1..]
                            .starts_with(|n: char| n.is_ascii_alphanumeric() || n == 'đ'))
            })
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(0);
        let article = &after[" §".len().." §".len() + article_len];
        match cite(doc, article, lang) {
            Some(words) => out.push_str(&words),
            None => out.push_str(&rest[at..at + 3 + " §".len() + article_len]),
        }
        rest = &after[" §".len() + article_len..];
    }
    out.push_str(rest);
    out
}

/// Where the next `NNN §` or `NNN Phụ lục`/`NNN Annex` reference starts in `s`.
fn find_reference(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..s.len().saturating_sub(4)).find(|&i| {
        (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes[i] == b'0'
            && bytes[i + 1] == b'0'
            && (b'0'..=b'4').contains(&bytes[i + 2])
            && (s[i + 3..].starts_with(" §")
                || s[i + 3..].starts_with(" Phụ lục ")
                || s[i + 3..].starts_with(" Annex "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_written_out_in_words() {
        assert_eq!(
            cite_all("tối đa 10 phút (004 §8.1.c)", Lang::Vi),
            "tối đa 10 phút (Quy chế bảo đảm an toàn thông tin mạng tỉnh Hải Dương (Quyết định 39/2024/QĐ-UBND), Điều 8 khoản 1 điểm c)"
        );
        assert_eq!(
            cite_all("two ISPs (000 §8.1.k, 003 §8.1.đ).", Lang::En),
            "two ISPs (Lào Cai cyber-security regulation (2026), Article 8(1)(k), Bắc Kạn provincial data centre regulation (Decision 11/2023/QĐ-UBND), Article 8(1)(đ))."
        );
        assert!(
            cite_all("each device once (000 Phụ lục I)", Lang::Vi).ends_with("(2026), Phụ lục I)")
        );
        assert_eq!(
            cite_all("10.0.0.0/24 port 8081", Lang::Vi),
            "10.0.0.0/24 port 8081"
        );
        assert_eq!(cite_all("009 §1", Lang::Vi), "009 §1");
        assert_eq!(
            cite_all("(004 §7.2)", Lang::Vi)
                .matches("Điều 7 khoản 2")
                .count(),
            1
        );
    }

    #[test]
    fn say_formats_both_languages_with_the_same_arguments() {
        let zone = "khach";
        let t = crate::say!("zone `{zone}` has {}", "vùng `{zone}` có {}", 3);
        assert_eq!(t.get(Lang::En), "zone `khach` has 3");
        assert_eq!(t.get(Lang::Vi), "vùng `khach` có 3");
        assert_eq!(t.to_string(), "zone `khach` has 3");
    }
}
