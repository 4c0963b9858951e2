#include "gui/connectdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace mambogo::gui {

ConnectDialog::ConnectDialog(const QString& files, const QString& context, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Connect to a cluster"));
  m_files = new QLineEdit(files.isEmpty() ? core::Kubeconfig::defaultFiles().join(QLatin1Char(':')) : files);
  auto* browse = new QToolButton;
  browse->setText(tr("…"));
  browse->setToolTip(tr("Choose a kubeconfig file"));
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(m_files, 1);
  fileRow->addWidget(browse);
  m_context = new QComboBox;
  m_context->setMinimumContentsLength(24);
  m_details = new QLabel;
  m_details->setWordWrap(true);
  m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));

  auto* form = new QFormLayout;
  form->addRow(tr("Kubeconfig:"), fileRow);
  form->addRow(tr("Context:"), m_context);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(m_details);
  layout->addWidget(m_buttons);
  resize(520, sizeHint().height());

  connect(browse, &QToolButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Kubeconfig"), m_files->text().section(QLatin1Char(':'), 0, 0));
    if (!file.isEmpty()) m_files->setText(file);
  });
  connect(m_files, &QLineEdit::editingFinished, this, &ConnectDialog::reload);
  connect(m_context, &QComboBox::currentTextChanged, this, &ConnectDialog::resolve);
  connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  reload();
  if (!context.isEmpty()) m_context->setCurrentText(context);
}

QString ConnectDialog::files() const { return m_files->text().trimmed(); }
QString ConnectDialog::context() const { return m_context->currentText(); }

void ConnectDialog::reload() {
  QSignalBlocker block(m_context);
  m_context->clear();
  try {
    m_config = core::Kubeconfig::load(files().split(QLatin1Char(':'), Qt::SkipEmptyParts));
    m_context->addItems(m_config.contextNames());
    m_context->setCurrentText(m_config.currentContext());
  } catch (const core::KubeconfigError& e) {
    m_config = {};
    m_details->setText(e.message());
  }
  resolve();
}

void ConnectDialog::resolve() {
  bool ok = false;
  if (m_context->count() > 0) {
    try {
      m_settings = m_config.settings(m_context->currentText());
      m_details->setText(tr("Server %1, namespace %2").arg(m_settings.server.toString(), m_settings.nameSpace));
      ok = true;
    } catch (const core::KubeconfigError& e) {
      m_details->setText(e.message());
    }
  }
  m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
}

}  // namespace mambogo::gui
