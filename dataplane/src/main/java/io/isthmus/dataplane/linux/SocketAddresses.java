package io.isthmus.dataplane.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** struct sockaddr_in and sockaddr_in6, in native memory, made once per peer. */
public final class SocketAddresses {
    public static final int IPV4_LENGTH = 16;
    public static final int IPV6_LENGTH = 28;

    private SocketAddresses() {
    }

    /** A native sockaddr for {@code address}, kept alive as long as it is referenced. */
    public static MemorySegment of(InetSocketAddress address) {
        boolean v6 = address.getAddress() instanceof Inet6Address;
        MemorySegment s = Arena.ofAuto().allocate(v6 ? IPV6_LENGTH : IPV4_LENGTH, 8);
        write(address, s);
        return s;
    }

    public static int length(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address ? IPV6_LENGTH : IPV4_LENGTH;
    }

    static void write(InetSocketAddress address, MemorySegment s) {
        byte[] ip = address.getAddress().getAddress();
        int port = address.getPort();
        s.fill((byte) 0);
        if (ip.length == 4) {
            s.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_INET);
            s.set(ValueLayout.JAVA_BYTE, 2, (byte) (port >>> 8));
            s.set(ValueLayout.JAVA_BYTE, 3, (byte) port);
            MemorySegment.copy(ip, 0, s, ValueLayout.JAVA_BYTE, 4, 4);
        } else {
            s.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_INET6);
            s.set(ValueLayout.JAVA_BYTE, 2, (byte) (port >>> 8));
            s.set(ValueLayout.JAVA_BYTE, 3, (byte) port);
            MemorySegment.copy(ip, 0, s, ValueLayout.JAVA_BYTE, 8, 16);
            if (address.getAddress() instanceof Inet6Address a6 && a6.getScopeId() != 0) {
                s.set(ValueLayout.JAVA_INT, 24, a6.getScopeId());
            }
        }
    }

    /** Reads a sockaddr the kernel filled in (recvfrom); allocates, so only for control traffic. */
    public static InetSocketAddress read(MemorySegment s) {
        int family = s.get(ValueLayout.JAVA_SHORT, 0);
        int port = ((s.get(ValueLayout.JAVA_BYTE, 2) & 0xFF) << 8) | (s.get(ValueLayout.JAVA_BYTE, 3) & 0xFF);
        byte[] ip = family == Libc.AF_INET6 ? new byte[16] : new byte[4];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, family == Libc.AF_INET6 ? 8 : 4, ip, 0, ip.length);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
