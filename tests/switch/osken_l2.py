"""An os-ken learning switch for the switch selftests (run by osken-manager).

Debian's python3-os-ken ships the framework without its sample applications; this is the
classic OpenFlow 1.3 learning switch in the manner of os-ken's simple_switch_13:

- when a switch connects: become its master (ROLE_REQUEST MASTER, generation id 1; the
  ROLE_REPLY is logged as `role reply role=.. generation_id=..`), ask for whole packets
  (SET_CONFIG miss_send_len NO_BUFFER) and install the table-miss rule, priority 0, no
  match, output:CONTROLLER:NO_BUFFER;
- on every PACKET_IN: learn (datapath, eth_src) -> in_port; if eth_dst is known, install
  priority=1,in_port,eth_src,eth_dst -> output:PORT so that the rest of that traffic never
  comes back; send the packet itself out with a PACKET_OUT (to the port, or FLOOD).

Each PACKET_IN is logged as one line, `packet_in dpid=.. in_port=.. reason=.. src=..
dst=.. out=..`, which the selftest reads.
"""
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class L2LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ports_of = {}  # dpid -> {mac: port}

    @staticmethod
    def install(dp, priority, match, actions):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match,
                                      instructions=inst))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_connected(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPRoleRequest(dp, ofp.OFPCR_ROLE_MASTER, 1))
        dp.send_msg(parser.OFPSetConfig(dp, ofp.OFPC_FRAG_NORMAL, ofp.OFPCML_NO_BUFFER))
        to_controller = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.install(dp, 0, parser.OFPMatch(), to_controller)
        self.logger.info("switch %016x connected: table-miss rule installed", dp.id)

    @set_ev_cls(ofp_event.EventOFPRoleReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def role_reply(self, ev):
        self.logger.info("role reply role=%d generation_id=%d", ev.msg.role, ev.msg.generation_id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)
        if not eth:
            return
        src, dst = eth[0].src, eth[0].dst
        table = self.ports_of.setdefault(dp.id, {})
        table[src] = in_port
        out_port = table.get(dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=src, eth_dst=dst)
            self.install(dp, 1, match, actions)
        self.logger.info("packet_in dpid=%016x in_port=%s reason=%s src=%s dst=%s out=%s",
                         dp.id, in_port, msg.reason, src, dst,
                         "flood" if out_port == ofp.OFPP_FLOOD else out_port)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port,
                                        actions=actions, data=data))
