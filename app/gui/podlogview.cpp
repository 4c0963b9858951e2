#include "gui/podlogview.h"

#include <QCheckBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QUrlQuery>
#include <QVBoxLayout>

#include "core/kube_client.h"

namespace mambogo::gui {

PodLogView::PodLogView(QWidget* parent) : QWidget(parent) {
  m_title = new QLabel(tr("Choose a pod in the Cluster tree and press Logs (or double-click it)."));
  m_followBox = new QCheckBox(tr("Follow"));
  m_followBox->setChecked(true);
  m_text = new QPlainTextEdit;
  m_text->setObjectName(QStringLiteral("podLog"));
  m_text->setReadOnly(true);
  m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
  m_text->setMaximumBlockCount(5000);
  m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  auto* top = new QHBoxLayout;
  top->addWidget(m_title, 1);
  top->addWidget(m_followBox);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(top);
  layout->addWidget(m_text, 1);

  m_follow.setInterval(2'000);
  connect(&m_follow, &QTimer::timeout, this, &PodLogView::fetch);
  connect(m_followBox, &QCheckBox::toggled, this, [this](bool on) {
    if (on && !m_pod.isEmpty()) m_follow.start();
    else m_follow.stop();
  });
}

void PodLogView::setClient(core::KubeClient* client, const QString& nameSpace) {
  m_client = client;
  m_namespace = nameSpace;
  if (!client) {
    m_follow.stop();
    m_pod.clear();
  }
}

void PodLogView::showPod(const QString& pod) {
  m_pod = pod;
  m_title->setText(tr("Log of pod <b>%1</b>").arg(pod.toHtmlEscaped()));
  m_text->clear();
  fetch();
  if (m_followBox->isChecked()) m_follow.start();
}

void PodLogView::fetch() {
  if (!m_client || m_pod.isEmpty() || m_fetching) return;
  m_fetching = true;
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("tailLines"), QStringLiteral("500"));
  const QString pod = m_pod;
  m_client->get(QStringLiteral("/api/v1/namespaces/%1/pods/%2/log").arg(m_namespace, pod), query, this,
                [this, pod](const core::KubeResponse& r) {
                  m_fetching = false;
                  if (pod != m_pod) return;  // another pod was chosen meanwhile
                  const QString text = r.ok() ? QString::fromUtf8(r.body) : tr("(no log: %1)").arg(r.error.toString());
                  if (text == m_text->toPlainText()) return;
                  const bool atEnd = m_text->verticalScrollBar()->value() >= m_text->verticalScrollBar()->maximum() - 2;
                  m_text->setPlainText(text);
                  if (atEnd) m_text->verticalScrollBar()->setValue(m_text->verticalScrollBar()->maximum());
                });
}

}  // namespace mambogo::gui
