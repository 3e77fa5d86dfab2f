# Setup for dialect-setup-commands.pkt, read (never executed) by the runner as packetdrill's
# scripts read ../common/defaults.sh: sysctls with an engine meaning change the configuration.
sysctl -q net.ipv4.tcp_rmem="4096 87380 $((4*1024*1024))"   # window scale 7
sysctl -q net.ipv4.tcp_timestamps=0
ip tcp_metrics flush all > /dev/null 2>&1
