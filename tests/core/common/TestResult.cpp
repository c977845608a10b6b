// Result<T>, CancelToken and errorCodeName basics.
#include "core/common/CancelToken.h"
#include "core/common/Result.h"

#include <QTest>

using namespace stipple::core;

class TestResult : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void valueAndError()
    {
        Result<int> ok = 42;
        QVERIFY(ok.ok());
        QCOMPARE(*ok, 42);
        Result<int> bad = makeError(ErrorCode::CorruptFile, "x.safetensors: bad header");
        QVERIFY(!bad.ok());
        QCOMPARE(int(bad.error().code), int(ErrorCode::CorruptFile));
        QCOMPARE(QString::fromStdString(errorCodeName(bad.error().code)), QStringLiteral("corrupt-file"));
        Status s;
        QVERIFY(s.ok());
    }
    void cancelTokenIsShared()
    {
        CancelToken a;
        CancelToken b = a;
        QVERIFY(!b.isCancelled());
        a.cancel();
        QVERIFY(b.isCancelled());
    }
};

QTEST_GUILESS_MAIN(TestResult)
#include "TestResult.moc"
