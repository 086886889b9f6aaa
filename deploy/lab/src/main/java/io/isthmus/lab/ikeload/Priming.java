package io.isthmus.lab.ikeload;

import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The generator's own warm-up, before it binds a socket or starts a clock: IKE SAs between two
 * engines in this JVM over a queue, with the generator's proposals and authentication, so that
 * its first real attempts do not wait for class loading, Bouncy Castle's set-up and the first
 * compilations (measured: on a loaded machine the first 32 attempts of a fresh generator took
 * over three seconds, the whole of a short row's window).
 */
final class Priming {
    private Priming() {
    }

    /** {@code count} IKE SAs with {@code initiator}'s settings, against a responder with the same authentication. */
    static void run(Connection initiator, int count) {
        ArrayDeque<Object[]> queue = new ArrayDeque<>();
        Transport wire = (d, l, r) -> queue.add(new Object[] {d, l, r});
        Scheduler now = new Scheduler() {
            @Override
            public Instant now() {
                return Instant.now();
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                return () -> { };
            }
        };
        ChildSaListener wipe = new ChildSaListener() {
            @Override
            public void installed(ChildSaDescription sa, ChildSaKeys keys) {
                keys.inbound().destroy();
                keys.outbound().destroy();
            }

            @Override
            public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
                keys.inbound().destroy();
                keys.outbound().destroy();
            }

            @Override
            public void deleted(ChildSaDescription sa) {
            }
        };
        InetAddress a = InetAddress.ofLiteral("127.0.0.1");
        InetAddress b = InetAddress.ofLiteral("127.0.0.2");
        IkeEngine ours = new IkeEngine(wire, now, wipe);
        IkeEngine theirs = new IkeEngine(wire, now, wipe);
        theirs.cookies(false);
        ours.addConnection(new Connection(initiator.name(), a, b, 32, initiator.localId(), null, initiator.authentication(), initiator.ikeProposals(),
                initiator.childProposals(), initiator.localSelectors(), initiator.remoteSelectors(), initiator.timers(), Connection.Mode.INITIATOR_ONLY,
                initiator.fragmentSize(), false, null, List.of(), null, null));
        theirs.addConnection(new Connection("responder", b, null, 0, initiator.localId(), null, initiator.authentication(), initiator.ikeProposals(),
                initiator.childProposals(), initiator.remoteSelectors(), initiator.localSelectors(), initiator.timers(), Connection.Mode.RESPONDER_ONLY,
                initiator.fragmentSize(), false, null, List.of(), null, null));
        for (int i = 0; i < count; i++) {
            ours.initiate(initiator.name(), new InetSocketAddress(a, 500), new InetSocketAddress(b, 500));
            Object[] m;
            while ((m = queue.poll()) != null) {
                byte[] d = (byte[]) m[0];
                InetSocketAddress from = (InetSocketAddress) m[1];
                InetSocketAddress to = (InetSocketAddress) m[2];
                (to.getAddress().equals(b) ? theirs : ours).receive(d, 0, d.length, to, from);
            }
        }
    }
}
