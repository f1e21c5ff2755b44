//! The messages in Simplified Chinese (`language = "zh"`, the default): the words operators of
//! these gateways read in their WeCom, DingTalk and Feishu groups.

use super::Tone;
use super::phrases::{DurationWords, Label, Phrases, Target, Unit};
use super::steps::Step;
use crate::incident::{IncidentKind, Resolution};

/// Simplified Chinese.
pub(super) struct Zh;

/// What happened, as the headline says it after the subject.
fn kind_name(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::ManualLoginRequired => "需要扫码登录",
        IncidentKind::DeviceRecycled => "设备已被回收",
        IncidentKind::RecycleWarning => "即将被回收",
        IncidentKind::CredentialsInvalid => "凭据失效",
        IncidentKind::ProviderUnreachable => "网关不可达",
    }
}

impl Phrases for Zh {
    fn tag(&self, tone: Tone) -> &'static str {
        match tone {
            Tone::Critical => "【严重】",
            Tone::Warning => "【警告】",
            Tone::Resolved => "【已恢复】",
            Tone::Test => "【测试】",
        }
    }

    fn colon(&self) -> &'static str {
        "："
    }

    fn paren(&self, text: &str) -> String {
        format!("（{text}）")
    }

    fn label(&self, label: Label) -> &'static str {
        match label {
            Label::Device => "设备",
            Label::Account => "账号",
            Label::Provider => "网关",
            Label::Labels => "标签",
            Label::Tried => "已尝试",
            Label::OfflineReason => "掉线原因",
            Label::Error => "错误",
            Label::Deadline => "回收期限",
            Label::RecycledAt => "回收时间",
            Label::Since => "开始于",
            Label::Lasted => "持续",
            Label::SentAt => "发送时间",
            Label::Action => "现在要做",
        }
    }

    fn headline(&self, kind: IncidentKind, subject: &str) -> String {
        format!("{subject} {}", kind_name(kind))
    }

    fn group_headline(&self, kind: IncidentKind, provider: &str, count: usize) -> String {
        match kind {
            IncidentKind::DeviceRecycled => format!("{provider}: {count} 台设备已被回收"),
            IncidentKind::ManualLoginRequired | IncidentKind::RecycleWarning => {
                format!("{provider}: {count} 台设备{}", kind_name(kind))
            }
            IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable => {
                format!("{provider}: {count} 条{}", kind_name(kind))
            }
        }
    }

    fn resolved_headline(&self, kind: IncidentKind, why: Resolution, subject: &str) -> String {
        match why {
            Resolution::Removed => return format!("{subject} 已停止监控"),
            Resolution::Superseded => return format!("{subject} 的回收预警已转为设备已回收"),
            Resolution::Recovered => {}
        }
        match kind {
            IncidentKind::ManualLoginRequired | IncidentKind::DeviceRecycled => {
                format!("{subject} 已恢复在线")
            }
            IncidentKind::RecycleWarning => format!("{subject} 的回收预警已解除"),
            IncidentKind::CredentialsInvalid => format!("{subject} 凭据已恢复有效"),
            IncidentKind::ProviderUnreachable => format!("{subject} 网关已恢复可达"),
        }
    }

    fn resolved_group_headline(
        &self,
        kind: IncidentKind,
        why: Resolution,
        provider: &str,
        count: usize,
    ) -> String {
        match why {
            Resolution::Removed => return format!("{provider}: {count} 台设备已停止监控"),
            Resolution::Superseded => {
                return format!("{provider}: {count} 台设备的回收预警已转为设备已回收");
            }
            Resolution::Recovered => {}
        }
        match kind {
            IncidentKind::ManualLoginRequired | IncidentKind::DeviceRecycled => {
                format!("{provider}: {count} 台设备已恢复在线")
            }
            IncidentKind::RecycleWarning => format!("{provider}: {count} 台设备的回收预警已解除"),
            IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable => {
                format!("{provider}: {count} 条{}已解除", kind_name(kind))
            }
        }
    }

    fn reminder(&self, seq: u32) -> String {
        format!("提醒 #{seq}")
    }

    fn explain(&self, kind: IncidentKind) -> &'static str {
        match kind {
            IncidentKind::ManualLoginRequired => "设备已掉线，自动恢复没有成功，需要有人扫码登录。",
            IncidentKind::DeviceRecycled => {
                "设备超过回收期限仍未登录，已被网关回收，需要重置后重新登录。"
            }
            IncidentKind::RecycleWarning => "设备长时间未登录，到回收期限时会被网关回收。",
            IncidentKind::CredentialsInvalid => {
                "网关拒绝了 session-keeper 的凭据，调用已放缓，直到凭据重新有效。"
            }
            IncidentKind::ProviderUnreachable => {
                "对网关的调用持续失败：它的设备状态未知，在网关恢复应答前不会发起恢复操作。"
            }
        }
    }

    fn resolved(&self, why: Resolution) -> &'static str {
        match why {
            Resolution::Recovered => "问题已恢复，无需处理。",
            Resolution::Removed => {
                "不再监控：已从配置中移除。session-keeper 已停止检查它，设备可能仍未登录。"
            }
            Resolution::Superseded => "设备已被回收，由“设备已回收”告警接替此预警。",
        }
    }

    fn action(&self, kind: IncidentKind, target: Target<'_>) -> String {
        let Target {
            provider,
            device,
            deadline,
        } = target;
        match (kind, device) {
            (IncidentKind::ManualLoginRequired, Some(device)) => {
                format!("在网关 {provider} 的控制台找到设备 {device}，用该微信号的手机扫码登录。")
            }
            (IncidentKind::ManualLoginRequired, None) => {
                format!("在网关 {provider} 的控制台为下列设备逐一扫码登录。")
            }
            (IncidentKind::DeviceRecycled, Some(device)) => {
                format!("在网关 {provider} 的控制台重置设备 {device}，然后扫码重新登录。")
            }
            (IncidentKind::DeviceRecycled, None) => {
                format!("在网关 {provider} 的控制台重置下列设备，然后逐一扫码登录。")
            }
            (IncidentKind::RecycleWarning, Some(device)) => {
                let by = deadline
                    .map(|d| format!("在 {d} 之前，"))
                    .unwrap_or_default();
                format!("请{by}在网关 {provider} 的控制台为 {device} 扫码登录，否则设备会被回收。")
            }
            (IncidentKind::RecycleWarning, None) => {
                format!("请在各自的回收期限之前，在网关 {provider} 的控制台为下列设备扫码登录。")
            }
            (IncidentKind::CredentialsInvalid, _) => format!(
                "检查 session-keeper 配置中网关 {provider} 的凭据（token、app id 等）是否过期或填错，修正后重新加载配置。"
            ),
            (IncidentKind::ProviderUnreachable, _) => {
                format!("检查网关 {provider} 是否在运行，以及 session-keeper 到它的网络是否通畅。")
            }
        }
    }

    fn step(&self, step: &Step<'_>, times: u32) -> String {
        let said = match step {
            Step::ReconnectSent => "已发送重连".to_owned(),
            Step::ReconnectFailed(None) => "重连失败".to_owned(),
            Step::ReconnectFailed(Some(error)) => format!("重连失败：{error}"),
            Step::ReconnectNotNeeded => "网关答复无需重连，但设备仍离线".to_owned(),
            Step::SecondLoginSent => "已发送二次登录".to_owned(),
            Step::SecondLoginNotConfirmed => "二次登录未确认".to_owned(),
            Step::SecondLoginRefused(error) => format!("二次登录被拒绝：{error}"),
            Step::NoSecondLogin => "该设备无法二次登录".to_owned(),
            Step::NoSecondLoginAfterReason(reason) => {
                format!("掉线原因需要人工处理，未发二次登录（{reason}）")
            }
            Step::SecondLoginDisabled => "二次登录已关闭".to_owned(),
            Step::SecondLoginSkipped(n) => format!("已连续 {n} 次未确认，不再发二次登录"),
            Step::SecondLoginWaits(at) => format!("二次登录等到 {at} 再发"),
            Step::NoRecoveryOnShrise => "shrise 不支持自动恢复".to_owned(),
            Step::Other(text) => (*text).to_owned(),
        };
        if times > 1 {
            format!("{said}（{times} 次）")
        } else {
            said
        }
    }

    fn step_separator(&self) -> &'static str {
        " → "
    }

    fn duration_words(&self) -> DurationWords {
        DurationWords {
            under_a_minute: "不到 1 分钟",
            minute: "分钟",
            hour: "小时",
            day: "天",
            join: "",
        }
    }

    fn deadline_ahead(&self, local: &str, left: &str) -> String {
        format!("{local}（还剩 {left}）")
    }

    fn deadline_passed(&self, local: &str) -> String {
        format!("{local}（已过期）")
    }

    fn open_since(&self, local: &str, open_for: Option<&str>) -> String {
        match open_for {
            Some(span) => format!("{local}（已持续 {span}）"),
            None => local.to_owned(),
        }
    }

    fn lasted(&self, span: &str, since: &str) -> String {
        format!("{span}（自 {since} 起）")
    }

    fn devices_head(&self, count: usize) -> String {
        format!("设备（{count} 台）")
    }

    fn affected_head(&self, count: usize) -> String {
        format!("受影响设备（{count} 台）")
    }

    fn alerts_head(&self) -> &'static str {
        "告警"
    }

    fn more(&self, rest: usize, unit: Unit) -> String {
        match unit {
            Unit::Devices => format!("…及其他 {rest} 台"),
            Unit::Alerts => format!("…及其他 {rest} 条"),
        }
    }

    fn digest_title(&self, count: usize) -> String {
        format!("{count} 条告警（超过频率限制已合并）")
    }

    fn digest_explain(&self) -> &'static str {
        "发送频率超过了该通知渠道的限制，这段时间的告警合并为一条，每条一行。"
    }

    fn test_title(&self) -> &'static str {
        "session-keeper 测试消息"
    }

    fn test_body(&self, notifier: &str) -> String {
        format!("这是通知渠道 {notifier} 的测试消息：能看到它，说明该渠道配置正确。无需任何操作。")
    }
}
