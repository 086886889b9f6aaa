package io.isthmus.control.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify's messages as a real AF_UNIX datagram socket receives them, and what the environment may hold instead. */
class ServiceManagerTest {
    static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private static ServiceManager to(String notifySocket) {
        return ServiceManager.fromEnvironment(Map.of("NOTIFY_SOCKET", notifySocket)::get);
    }

    @Test
    void eachMessageIsOneDatagramOfAssignments() throws Exception {
        try (FakeNotifySocket systemd = FakeNotifySocket.bind(dir.resolve("notify").toString());
             ServiceManager m = to(systemd.name())) {
            assertTrue(m.listening());
            m.ready("0 of 2 tunnels up");
            m.status("1 of 2 tunnels up");
            m.watchdog();
            m.stopping("stopping: deleting the IKE SAs (SIGTERM)");
            assertEquals(List.of("READY=1\nSTATUS=0 of 2 tunnels up\nMAINPID=" + PID, "STATUS=1 of 2 tunnels up", "WATCHDOG=1",
                    "STOPPING=1\nSTATUS=stopping: deleting the IKE SAs (SIGTERM)"), systemd.drain());
        }
    }

    @Test
    void aFailedStartSaysWhyAndTheErrnoWhenThereIsOne() throws Exception {
        try (FakeNotifySocket systemd = FakeNotifySocket.bind(dir.resolve("notify").toString());
             ServiceManager m = to(systemd.name())) {
            m.startFailed("gw.yaml: virtualNetworkGateway.tunnel.ikePort: UDP port 500 on 10.0.0.4 is taken by charon (pid 812)", 98);
            m.startFailed("something without an errno", 0);
            assertEquals(List.of("STATUS=gw.yaml: virtualNetworkGateway.tunnel.ikePort: UDP port 500 on 10.0.0.4 is taken by charon (pid 812)"
                    + "\nERRNO=98", "STATUS=something without an errno"), systemd.drain());
        }
    }

    @Test
    void anAbstractSocketIsNamedWithAnAt() throws Exception {
        String name = "@isthmus-test-" + PID + "-notify";
        try (FakeNotifySocket systemd = FakeNotifySocket.bind(name); ServiceManager m = to(name)) {
            m.watchdog();
            assertEquals(List.of("WATCHDOG=1"), systemd.drain());
        }
    }

    /** Several problems, or a peer's identity quoted in a status: a line break would start a new assignment (READY=1, MAINPID=...). */
    @Test
    void aStatusStaysOneLineWhateverItQuotes() throws Exception {
        try (FakeNotifySocket systemd = FakeNotifySocket.bind(dir.resolve("notify").toString());
             ServiceManager m = to(systemd.name())) {
            m.startFailed("gw.yaml: a: first\ngw.yaml: b: second\r\nMAINPID=1\u0007", 22);
            m.status("x".repeat(5000));
            List<String> got = systemd.drain();
            assertEquals("STATUS=gw.yaml: a: first; gw.yaml: b: second; MAINPID=1?\nERRNO=22", got.get(0));
            assertEquals(ServiceManager.MAX_STATUS, got.get(1).length() - "STATUS=".length());
            assertTrue(got.get(1).endsWith("..."));
        }
    }

    @Test
    void withoutNotifySocketNothingIsSentAndNothingFails() {
        ServiceManager m = ServiceManager.fromEnvironment(Map.<String, String>of()::get);
        assertFalse(m.listening());
        m.ready("0 of 1 tunnels up");
        m.watchdog();
        m.stopping("stopping");
        m.close();
    }

    @Test
    void anUnusableNotifySocketTurnsNotificationsOffWithAWarning() {
        for (String bad : List.of("relative/path", "vsock:2:1234", "/" + "x".repeat(107), "@", "@" + "y".repeat(108))) {
            assertFalse(to(bad).listening(), bad);
        }
    }

    /** systemd gone (or a stale variable): the gateway carries on, the failure logged. */
    @Test
    void nobodyListeningIsNotAnError() {
        try (ServiceManager m = to(dir.resolve("nobody-here").toString())) {
            assertTrue(m.listening());
            m.ready("0 of 1 tunnels up");
            m.watchdog();
        }
    }

    @Test
    void socketAddressesAreLaidOutAsTheKernelReadsThem() {
        MemorySegment s = Arena.ofAuto().allocate(NotifySocket.SOCKADDR_UN_SIZE);
        assertEquals(2 + "/run/systemd/notify".length() + 1, NotifySocket.address("/run/systemd/notify", s));
        assertEquals(1, s.get(ValueLayout.JAVA_SHORT, 0), "AF_UNIX");
        assertEquals('/', s.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 2 + "/run/systemd/notify".length()), "NUL-terminated");

        assertEquals(2 + 1 + "abc".length(), NotifySocket.address("@abc", s), "abstract: a NUL, the name, no NUL after");
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 2));
        assertEquals('a', s.get(ValueLayout.JAVA_BYTE, 3));

        assertEquals(110, NotifySocket.address("/" + "p".repeat(106), s), "107 bytes and the NUL fill sun_path");
        assertThrows(IllegalArgumentException.class, () -> NotifySocket.address("/" + "p".repeat(107), s));
        assertThrows(IllegalArgumentException.class, () -> NotifySocket.address("/a\0b", s));
    }
}
