package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.PairLab.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Takeovers while IKE is in flight, against an impatient strongSwan peer (DPD every 2 s, a request
 * given up after 2 s of silence, then a new IKE SA), which punishes any request the survivor
 * ignores: a record that is behind what the peer saw (the owner went on alone), and the owner
 * killed in the middle of a rekey the peer started.
 */
class PairMidFlightTest extends PairLabTestBase {
    /** pair.syncPort's default, which the lab's configuration keeps. */
    static final int SYNC_PORT = 4510;
    static final Pattern DPD_EXCHANGE = Pattern.compile("generating INFORMATIONAL request \\d+ \\[ \\]");


    /**
     * gw1's sync stream is cut (VRRP still passes, so gw1 keeps its group) and gw1 answers the
     * peer's dead peer detection alone, so gw2's copy of the IKE SA's message IDs falls behind;
     * then gw1 is killed. gw2 must agree the message IDs with the peer (RFC 6311, which strongSwan
     * answers) instead of ignoring the peer's next request.
     */
    @Test
    void aTakeoverFromARecordThatIsBehindAgreesMessageIdsWithThePeer() throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-resync-test"));
        // AES-CBC: under an AEAD IKE cipher strongSwan cannot answer the sync (Takeover says why), and it is not asked.
        PairGateways pair = PairGateways.start(lab, Options.DEFAULT, true, PairGateways.IkeCipher.AES_CBC);
        pair.startImpatientPeer();
        String before = pair.awaitPeerTunnel(Duration.ofSeconds(60));
        Path charonLog = pair.peerDirectory().resolve("charon.log");

        lab.syncStreamCut(Instance.GW1, SYNC_PORT);
        long cutAt = Files.size(charonLog);
        // The peer's DPD every 2 s, answered by gw1 alone: gw2 sees none of them. Longer than GatewayPair.SOLO_EVIDENCE:
        // gw1 kept its group that long with the link down, so it was running, not dead or paused.
        Thread.sleep(7000);
        String alone = Files.readString(charonLog).substring((int) cutAt);
        long answeredAlone = DPD_EXCHANGE.matcher(alone).results().count();
        assertTrue(answeredAlone >= 2, "the peer's DPD went on while the sync was cut: " + answeredAlone + " exchange(s)\n" + alone);
        assertTrue(lab.holds(Instance.GW1, PairLab.VIP1), "gw1 kept its address: VRRP still passes");

        lab.killDaemon(Instance.GW1);
        assertTrue(lab.awaitAddress(Instance.GW2, PairLab.VIP1, Duration.ofSeconds(20)) >= 0, "gw2 took vip1");
        // Four of the peer's DPD rounds, each given up on after 2 s without an answer.
        Thread.sleep(8000);

        String after = pair.peerSas();
        String log = Files.readString(charonLog);
        assertTrue(log.contains("MID sync"), "the peer answered a message ID sync (RFC 6311):\n" + log.substring((int) cutAt));
        assertEquals(PairGateways.ikeSpis(before), PairGateways.ikeSpis(after), "the peer kept its IKE SA:\n" + before + "\n" + after);
        assertEquals(PairGateways.childSpis(before), PairGateways.childSpis(after), "and its child SA");
        JsonNode taken = GatewayClient.status(lab.work().resolve(Instance.GW2.label + ".sock")).path("pair").path("lastTakeover");
        assertEquals(1, taken.path("messageIdSyncs").asInt(), "gw2 resynchronised the one IKE SA: " + taken);
        lab.in(PairLab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", PairLab.HOST_B_IP);
    }

    /**
     * The peer rekeys the child SA; gw1 answers, but its answer never leaves (its IKE output is
     * dropped), and gw1 is killed. The peer retransmits its CREATE_CHILD_SA request to gw2, which
     * must give the same answer from gw1's synced record (the new child SA's keys were acknowledged
     * before the answer could leave): the rekey completes with the SPIs gw1 chose, and traffic flows
     * on the new child SA, with no new IKE SA.
     */
    @Test
    void aKillDuringAPeersRekeyLeavesTheSurvivorTheSameAnswer() throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-rekey-kill-test"));
        PairGateways pair = PairGateways.start(lab, Options.DEFAULT);
        pair.startImpatientPeer();
        String before = pair.awaitPeerTunnel(Duration.ofSeconds(60));
        Path charonLog = pair.peerDirectory().resolve("charon.log");
        Path gw1Log = lab.work().resolve(Instance.GW1.label + ".log");

        // The fault runs under issue 12's two streams: the TCP connection must not be reset, and the
        // UDP stream must flow again on the rekeyed SA.
        PairStreams.server(lab);
        PairStreams streams = PairStreams.start(lab, 14);
        Thread.sleep(2000);
        lab.ikeOutCut(Instance.GW1);
        long rekeyAt = Files.size(charonLog);
        long gw1At = Files.size(gw1Log);
        LabGateways.swanctl(pair.peerDirectory(), "--rekey", "--child", "net");
        awaitLine(gw1Log, gw1At, "CHILD_SA rekeyed", Duration.ofSeconds(10));
        Thread.sleep(200); // its answer, built with the new child SA, acknowledged by gw2 and dropped on the way out
        lab.killDaemon(Instance.GW1);
        assertTrue(lab.awaitAddress(Instance.GW2, PairLab.VIP1, Duration.ofSeconds(20)) >= 0, "gw2 took vip1");
        Thread.sleep(6000);
        PairStreams.Outcome o = streams.finish("kill -9 during the peer's rekey");
        System.out.println("kill -9 during the peer's rekey: " + o.figure());
        o.check();

        String after = pair.peerSas();
        String log = Files.readString(charonLog).substring((int) rekeyAt);
        assertTrue(log.contains("retransmit 1 of request"), "gw1's answer never reached the peer, which retransmitted:\n" + log);
        assertTrue(!log.contains("IKE_SA_INIT"), "no new IKE SA:\n" + log);
        assertEquals(PairGateways.ikeSpis(before), PairGateways.ikeSpis(after), "the peer kept its IKE SA:\n" + after);
        List<String> children = PairGateways.childSpis(after);
        assertEquals(1, children.size(), "one child SA, the rekeyed one:\n" + after);
        assertNotEquals(PairGateways.childSpis(before), children, "the rekey completed:\n" + log);
        lab.in(PairLab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", PairLab.HOST_B_IP);
    }

    /** Waits until {@code file} has {@code text} after byte {@code from}. */
    static void awaitLine(Path file, long from, String text, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (!Files.readString(file).substring((int) from).contains(text)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no " + text + " in " + file + " within " + limit.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }
}
