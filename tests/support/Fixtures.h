// Test helpers: where ../shared is, and skipping (never passing silently)
// when it is missing.
#pragma once

#include <QDir>
#include <QFileInfo>
#include <QString>
#include <QTest>

#include <cstdlib>
#include <string>

namespace stipple::test {

inline QString sharedDir()
{
    const char *env = std::getenv("STIPPLE_SHARED_DIR");
    return QString::fromLocal8Bit(env ? env : STIPPLE_SOURCE_DIR "/../shared");
}

inline QString fixturesDir() { return sharedDir() + QStringLiteral("/fixtures"); }
inline std::string fixturePath(const QString &rel)
{
    return (fixturesDir() + QLatin1Char('/') + rel).toStdString();
}
inline bool haveFixtures()
{
    return QFileInfo::exists(fixturesDir() + QStringLiteral("/manifest.json"));
}

} // namespace stipple::test

// Use at the top of a test function that needs ../shared/fixtures.
#define STIPPLE_REQUIRE_FIXTURES()                                                          \
    do {                                                                                    \
        if (!stipple::test::haveFixtures())                                                 \
            QSKIP(qPrintable(QStringLiteral("fixtures not found at %1 (set STIPPLE_SHARED_DIR)") \
                                 .arg(stipple::test::fixturesDir())));                      \
    } while (0)
