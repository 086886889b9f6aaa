package io.isthmus.control.log;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's start-up, found through META-INF/services: the gateway's defaults from the first
 * line on, in every JVM that has the control module (the daemon, its tests, the lab's gateways),
 * and no logback.xml searched for or needed. Whatever the configuration file then says is
 * applied by {@link LogOutput#apply}.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogbackConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        new LogOutput(context).configureDefaults(JournalStream.isStandardError());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
