//! Offline reasons: the vendor's words for why an account dropped, sorted into the categories
//! the wechatpro documentation lists, so the keeper can tell "try a second login" from "a
//! person must act".

use std::fmt;

/// Why the vendor says an account went offline: its own text plus the category it falls in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfflineReason {
    /// The vendor's text, verbatim (shown to people in alerts).
    pub text: String,
    /// The category the text falls in.
    pub category: ReasonCategory,
}

/// The documented offline reasons (wechatpro numbering 1–8), plus `Other`. The keeper uses
/// them to skip a pointless second login and to tell the person what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCategory {
    /// 1 `为了你的账号安全，请重新登录`: risk control asked for a new login.
    SecurityRelogin,
    /// 2 `设备环境异常，请重新登录`.
    DeviceEnvironment,
    /// 3 `设备网络异常，请重新登录`.
    Network,
    /// 4 `你已退出微信`: the person logged out on purpose.
    LoggedOut,
    /// 5 `在 xxx 设备上登录`: another device took the session.
    OtherDevice,
    /// 6 `在 xxxx-xx-xx 修改密码，请重新登录`.
    PasswordChanged,
    /// 7 `修改支付密码…`.
    PaymentPasswordChanged,
    /// 8 `修改活体信息…`.
    BiometricChanged,
    /// Anything the list does not name.
    Other,
}

/// Phrase → category, most specific first: a text naming the payment password must never
/// read as a plain password change, and the credential changes (a person must act) win over
/// the generic "please log in again" phrases. Matched against the text with all whitespace
/// removed, so `在 iPad 设备上登录` and `在iPad设备上登录` read the same.
const PHRASES: [(&str, ReasonCategory); 8] = [
    ("修改支付密码", ReasonCategory::PaymentPasswordChanged),
    ("修改密码", ReasonCategory::PasswordChanged),
    ("修改活体信息", ReasonCategory::BiometricChanged),
    ("设备上登录", ReasonCategory::OtherDevice),
    ("退出微信", ReasonCategory::LoggedOut),
    ("为了你的账号安全", ReasonCategory::SecurityRelogin),
    ("设备环境异常", ReasonCategory::DeviceEnvironment),
    ("设备网络异常", ReasonCategory::Network),
];

impl OfflineReason {
    /// Sorts a vendor's reason text into its category.
    pub fn classify(text: &str) -> OfflineReason {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let category = PHRASES
            .iter()
            .find(|(phrase, _)| compact.contains(phrase))
            .map_or(ReasonCategory::Other, |(_, category)| *category);
        OfflineReason {
            text: text.to_owned(),
            category,
        }
    }

    /// True when a second login is pointless and a person must act (reasons 4–8).
    pub fn needs_person(&self) -> bool {
        self.category.needs_person()
    }
}

impl ReasonCategory {
    /// True for reasons 4–8: the person logged out, moved to another device or changed
    /// credentials, so prompting the phone again cannot help.
    pub fn needs_person(self) -> bool {
        matches!(
            self,
            ReasonCategory::LoggedOut
                | ReasonCategory::OtherDevice
                | ReasonCategory::PasswordChanged
                | ReasonCategory::PaymentPasswordChanged
                | ReasonCategory::BiometricChanged
        )
    }

    /// The snake_case name used in logs and alert details.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCategory::SecurityRelogin => "security_relogin",
            ReasonCategory::DeviceEnvironment => "device_environment",
            ReasonCategory::Network => "network",
            ReasonCategory::LoggedOut => "logged_out",
            ReasonCategory::OtherDevice => "other_device",
            ReasonCategory::PasswordChanged => "password_changed",
            ReasonCategory::PaymentPasswordChanged => "payment_password_changed",
            ReasonCategory::BiometricChanged => "biometric_changed",
            ReasonCategory::Other => "other",
        }
    }
}

impl fmt::Display for ReasonCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReasonCategory::*;

    #[test]
    fn the_documented_reasons_classify() {
        let cases = [
            ("为了你的账号安全，请重新登录", SecurityRelogin, false),
            ("设备环境异常，请重新登录", DeviceEnvironment, false),
            ("设备网络异常，请重新登录", Network, false),
            ("你已退出微信", LoggedOut, true),
            ("在 iPad 设备上登录", OtherDevice, true),
            ("在Windows设备上登录", OtherDevice, true),
            ("在 2026-11-20 修改密码，请重新登录", PasswordChanged, true),
            (
                "在 2026-11-20 修改支付密码，请重新登录",
                PaymentPasswordChanged,
                true,
            ),
            ("修改活体信息，请重新登录", BiometricChanged, true),
            ("服务器维护", Other, false),
            ("", Other, false),
        ];
        for (text, category, needs_person) in cases {
            let reason = OfflineReason::classify(text);
            assert_eq!(reason.category, category, "{text}");
            assert_eq!(reason.needs_person(), needs_person, "{text}");
            assert_eq!(reason.text, text);
        }
    }

    #[test]
    fn payment_password_wins_over_password() {
        let reason = OfflineReason::classify("修改支付密码");
        assert_eq!(reason.category, PaymentPasswordChanged);
    }

    #[test]
    fn category_names_are_snake_case() {
        assert_eq!(OtherDevice.to_string(), "other_device");
        let json = serde_json::to_string(&OfflineReason::classify("你已退出微信"));
        assert_eq!(
            json.ok().as_deref(),
            Some(r#"{"text":"你已退出微信","category":"logged_out"}"#)
        );
    }
}
