//! The console's two languages, English and Japanese: chosen by `?lang=` (remembered in a
//! cookie), else by the browser's `Accept-Language`.

use axum::http::{HeaderMap, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

/// The cookie that remembers a `?lang=` choice.
pub const COOKIE: &str = "lookalike_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// `?lang=` first, then the cookie, then the first of `Accept-Language` we speak.
    pub fn choose(asked: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = asked.and_then(Lang::parse) {
            return l;
        }
        if let Some(l) = super::auth::cookie(headers, COOKIE).and_then(Lang::parse) {
            return l;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(Lang, f32)> = None;
        for part in accept.split(',').take(20) {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(l) = Lang::parse(primary)
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((l, q));
            }
        }
        best.map_or(Lang::En, |(l, _)| l)
    }

    /// The text for `key` in this language (English where a translation is missing, the key
    /// itself for an unknown key).
    pub fn t(self, key: &'static str) -> &'static str {
        match TEXTS.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, ja)) => match self {
                Lang::En => en,
                Lang::Ja => ja,
            },
            None => key,
        }
    }
}

/// (key, English, Japanese).
const TEXTS: &[(&str, &str, &str)] = &[
    ("findings", "Findings", "検出一覧"),
    ("overview", "Overview", "概要"),
    ("logout", "Log out", "ログアウト"),
    ("all", "All", "すべて"),
    ("new", "New", "未確認"),
    ("confirmed", "Confirmed", "確認済み"),
    ("false_positive", "False positive", "誤検知"),
    ("ignored", "Ignored", "無視"),
    ("taken_down", "Taken down", "テイクダウン済み"),
    ("brand", "Brand", "ブランド"),
    ("technique", "Technique", "手口"),
    ("status", "Status", "状態"),
    ("state", "Domain state", "ドメインの状態"),
    ("mail_ready", "Mail-ready only", "メール送受信可能のみ"),
    ("score", "Score", "スコア"),
    ("min_score", "Min score", "最低スコア"),
    ("max_score", "Max score", "最高スコア"),
    ("since", "Since", "期間"),
    (
        "since_hint",
        "24h, 7d or 2026-12-01",
        "24h、7d、2026-12-01 など",
    ),
    ("search", "Domain contains", "ドメイン検索"),
    ("sort", "Sort", "並び順"),
    ("newest", "Newest first", "新しい順"),
    ("by_score", "Highest score first", "スコアの高い順"),
    ("filter", "Filter", "絞り込む"),
    ("reset", "Reset", "リセット"),
    ("any", "any", "すべて"),
    ("domain", "Domain", "ドメイン"),
    ("first_seen", "First seen", "初検出"),
    ("last_seen", "Last seen", "最終検出"),
    ("next_page", "Next page", "次のページ"),
    ("first_page", "First page", "最初のページ"),
    (
        "nothing",
        "No findings match.",
        "該当する検出はありません。",
    ),
    ("note", "Note", "メモ"),
    ("mark_as", "Mark selected as", "選択した項目を変更"),
    ("mark", "Mark as", "状態を変更"),
    ("select_all", "Select all", "すべて選択"),
    (
        "keys",
        "Keys: j/k move, x select, Enter open, c confirmed, f false positive, i ignored, t taken down.",
        "キー操作: j/k 移動、x 選択、Enter 開く、c 確認済み、f 誤検知、i 無視、t テイクダウン済み。",
    ),
    ("seen_as", "seen as", "検出名"),
    ("reasons", "Why it was flagged", "検出理由"),
    ("techniques", "Techniques", "手口"),
    ("term", "Term", "対象語"),
    ("sightings", "Sightings", "検出記録"),
    ("source", "Source", "ソース"),
    ("name", "Name", "名前"),
    (
        "log_index",
        "Log / feed, index",
        "ログ・フィード、インデックス",
    ),
    ("issuer", "Issuer", "発行者"),
    ("validity", "Validity", "有効期間"),
    ("certificate", "Certificate", "証明書"),
    ("history", "Triage history", "対応履歴"),
    (
        "no_history",
        "Nobody has triaged this yet.",
        "まだ誰も対応していません。",
    ),
    ("enrichment", "Enrichment", "調査結果"),
    (
        "not_enriched",
        "Not looked up yet.",
        "まだ調査されていません。",
    ),
    ("copy_defanged", "Copy as defanged", "無害化してコピー"),
    ("copied", "Copied", "コピーしました"),
    ("count", "Sightings counted", "検出回数"),
    ("enriched_score", "Score with enrichment", "調査後のスコア"),
    ("by", "By", "担当"),
    ("at", "At", "日時"),
    ("save", "Save", "保存"),
    (
        "per_day_brand",
        "Findings per day, by brand",
        "ブランド別 日毎の検出数",
    ),
    (
        "per_day_technique",
        "Findings per day, by technique",
        "手口別 日毎の検出数",
    ),
    ("outbox", "Alert outbox", "通知の送信待ち"),
    ("pending", "Pending", "送信待ち"),
    ("dead", "Dead letters", "送信失敗"),
    ("retry", "Retry", "再送"),
    ("drop", "Drop", "破棄"),
    ("retry_all", "Retry all dead", "失敗分をすべて再送"),
    ("drop_all", "Drop all dead", "失敗分をすべて破棄"),
    ("route", "Route", "通知先"),
    ("attempts", "Attempts", "試行回数"),
    ("last_error", "Last error", "最後のエラー"),
    ("sources", "Sources", "ソース"),
    ("up", "Up", "稼働"),
    ("down", "Down", "停止"),
    ("tree_size", "Tree size", "ツリーサイズ"),
    ("lag_entries", "Behind (entries)", "遅延 (エントリ)"),
    ("lag_seconds", "Behind (seconds)", "遅延 (秒)"),
    ("fetch_errors", "Fetch errors", "取得エラー"),
    ("decode_errors", "Malformed entries", "不正なエントリ"),
    (
        "no_sources",
        "No CT log followed.",
        "監視中の CT ログはありません。",
    ),
    ("ready", "Ready", "稼働中"),
    ("not_ready", "Not ready", "停止中"),
    ("unreachable", "Cannot reach", "接続できないソース"),
    ("reloads", "Watchlist reloads", "ウォッチリストの再読み込み"),
    ("ok", "succeeded", "成功"),
    ("error", "failed", "失敗"),
    ("empty_outbox", "Nothing waiting.", "送信待ちはありません。"),
    ("days30", "last 30 days, UTC", "過去 30 日 (UTC)"),
    ("other", "other", "その他"),
    ("login", "Log in", "ログイン"),
    ("token", "API token", "API トークン"),
    (
        "login_help",
        "This console is protected by the API token ([api] token_env or token_file).",
        "このコンソールは API トークン ([api] token_env / token_file) で保護されています。",
    ),
    (
        "wrong_token",
        "That token is not right.",
        "トークンが違います。",
    ),
    (
        "not_found",
        "No finding for this domain.",
        "このドメインの検出はありません。",
    ),
    (
        "bad_request",
        "That request is not valid",
        "不正なリクエストです",
    ),
    ("updated", "updated", "件更新しました"),
    ("stats", "Findings", "検出数"),
    (
        "local_only",
        "This console answers on its address or localhost only.",
        "このコンソールは IP アドレスか localhost でのみ利用できます。",
    ),
    ("login_first", "Log in first.", "先にログインしてください。"),
    (
        "stopping",
        "The service is stopping.",
        "サービスを停止中です。",
    ),
    (
        "csrf_failed",
        "This form is out of date or was not sent from this console (CSRF check); reload the page and try again.",
        "このフォームは古いか、このコンソールから送信されていません (CSRF チェック)。ページを再読み込みしてやり直してください。",
    ),
    ("note_too_long", "The note is too long", "メモが長すぎます"),
    (
        "select_one",
        "Select at least one finding.",
        "検出を 1 件以上選択してください。",
    ),
    ("dns", "DNS", "DNS"),
    ("rdap", "RDAP", "RDAP"),
    ("web", "Web", "Web"),
    ("checked", "Checked", "調査日時"),
    ("registrar", "Registrar", "レジストラ"),
    ("created", "Created", "登録日"),
    ("title", "Page title", "ページタイトル"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_query_cookie_and_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::choose(None, &h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR, ja;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::choose(None, &h), Lang::Ja);
        assert_eq!(Lang::choose(Some("en"), &h), Lang::En);
        h.insert(header::COOKIE, "lookalike_lang=en".parse().unwrap());
        assert_eq!(Lang::choose(None, &h), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), &h), Lang::En);
    }

    #[test]
    fn every_text_has_both_languages_once() {
        for (i, (k, en, ja)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ja.is_empty(), "{k}");
            assert!(TEXTS[..i].iter().all(|(o, _, _)| o != k), "{k} twice");
        }
        assert_eq!(Lang::Ja.t("findings"), "検出一覧");
    }

    /// Every `t("key")` the pages ask for has a text (an unknown key would show as itself).
    #[test]
    fn every_key_the_pages_use_exists() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("list.rs"),
            include_str!("finding.rs"),
            include_str!("overview.rs"),
            include_str!("login.rs"),
        ];
        let mut used = 0;
        for source in sources {
            for part in source.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                {
                    used += 1;
                    assert!(
                        TEXTS.iter().any(|(k, _, _)| *k == key),
                        "no text for {key:?}"
                    );
                }
            }
        }
        assert!(used > 50, "{used}");
    }
}
