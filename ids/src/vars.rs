//! Rule variables (`$HOME_NET`, `$HTTP_PORTS`…) with Suricata's default values, so a rule file
//! written for Suricata means the same here; the gateway overrides `HOME_NET` from its config.

use std::collections::HashMap;

/// Address and port variables used while parsing rule headers.
#[derive(Debug, Clone)]
pub struct Vars {
    pub addresses: HashMap<String, String>,
    pub ports: HashMap<String, String>,
}

impl Default for Vars {
    fn default() -> Self {
        let addresses = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
        ];
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
        ];
        Vars {
            addresses: addresses
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: ports
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl Vars {
    /// Suricata's defaults with `HOME_NET` set to the given prefixes.
    pub fn with_home_net<S: AsRef<str>>(prefixes: &[S]) -> Self {
        let mut vars = Vars::default();
        if !prefixes.is_empty() {
            let list: Vec<&str> = prefixes.iter().map(std::convert::AsRef::as_ref).collect();
            vars.addresses
                .insert("HOME_NET".into(), format!("[{}]", list.join(",")));
        }
        vars
    }
}
