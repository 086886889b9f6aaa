package io.isthmus.control;

import java.io.IOException;

/**
 * The host's routes that lead site prefixes into the tunnel device, one prefix at a time, as a
 * reload adds and removes them: {@link HostRouting#into} with ip(8) on a gateway, a list in tests.
 */
interface SiteRoutes {
    /** Routes {@code prefix} into the tunnel device, replacing a route for it that was there. */
    void add(String prefix) throws IOException, InterruptedException;

    /** Takes the route for {@code prefix} out of the tunnel device. */
    void remove(String prefix) throws IOException, InterruptedException;
}
