#!/bin/sh
# The lab's dhclient script: put the leased address and default route on the interface, and
# nothing else (no resolv.conf: lab hosts share the machine's /etc).
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip addr flush dev "$interface" scope global
    fi
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    if [ -n "$new_routers" ]; then
      ip route replace default via "${new_routers%% *}" dev "$interface"
    fi
    ;;
  EXPIRE|FAIL|RELEASE|STOP)
    ip addr flush dev "$interface" scope global
    ;;
esac
exit 0
