package vip

// metaData is the OCF meta-data of palisade:vip, so tools that list
// agent parameters treat it like any OCF agent.
const metaData = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="vip" version="1.0">
<version>1.1</version>
<longdesc lang="en">Virtual IP address built into Palisade: adds the address with netlink,
refuses to start if another host already answers for it, and announces it with
gratuitous ARP (request and reply) or unsolicited neighbour advertisements.</longdesc>
<shortdesc lang="en">Virtual IPv4/IPv6 address</shortdesc>
<parameters>
<parameter name="ip" unique="1" required="1"><shortdesc lang="en">IPv4 or IPv6 address</shortdesc><content type="string"/></parameter>
<parameter name="cidr_netmask"><shortdesc lang="en">Prefix length (default: the interface subnet's, else host route)</shortdesc><content type="integer"/></parameter>
<parameter name="nic"><shortdesc lang="en">Interface (default: by route lookup)</shortdesc><content type="string"/></parameter>
<parameter name="label"><shortdesc lang="en">IPv4 address label</shortdesc><content type="string"/></parameter>
<parameter name="arp_count"><shortdesc lang="en">Announcements per burst</shortdesc><content type="integer" default="5"/></parameter>
<parameter name="arp_interval"><shortdesc lang="en">Milliseconds between announcements</shortdesc><content type="integer" default="200"/></parameter>
<parameter name="dad_timeout"><shortdesc lang="en">Milliseconds to wait for a duplicate (0 = no check)</shortdesc><content type="integer" default="300"/></parameter>
<parameter name="dad"><shortdesc lang="en">optimistic: add and announce, then check for a duplicate during the start (IPv4); strict: check first</shortdesc><content type="string" default="optimistic"/></parameter>
<parameter name="reannounce_interval"><shortdesc lang="en">Milliseconds between periodic re-announcements (0 = off)</shortdesc><content type="integer" default="0"/></parameter>
</parameters>
<actions>
<action name="start" timeout="20s"/>
<action name="stop" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s" depth="0"/>
<action name="validate-all" timeout="20s"/>
<action name="meta-data" timeout="5s"/>
</actions>
</resource-agent>
`
