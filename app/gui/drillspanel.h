// DrillsPanel: the Drills dock — pick a drill (the built-in ones and any file), read what it
// teaches and what it will check, run it against the connected cluster, and watch its time line:
// steps as they run and expectations ticking green or red, then the verdict and the score;
// save the report as HTML or PDF. The question filter is the interview mode's index: which
// drills answer Q1..Q4 of the guide with evidence; "Predict first" asks the drill's prediction
// questions before it runs (a dialog of numbers) and the verdict and report score them.
//
// It owns a drill::DrillRunner for the current session (setSession; null disables it).
//
// Thread-safety: GUI thread only. Lifetime: the session must outlive its use here (the window
// calls setSession(nullptr) before destroying one). Closing the window mid-drill aborts the
// drill and waits (at most 30 s) for its rollback, unless the window stops the cluster anyway.
#pragma once

#include <QHash>
#include <QList>
#include <QPointer>
#include <QWidget>
#include <memory>

#include "drill/drill.h"
#include "drill/runner.h"

class QCheckBox;
class QComboBox;
class QDialog;
class QLabel;
class QListWidget;
class QPushButton;
class QTextBrowser;
class QTreeWidget;
class QTreeWidgetItem;

namespace mambogo::core {
class ClusterSession;
}

namespace mambogo::gui {

class DrillsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DrillsPanel(QWidget* parent = nullptr);
  ~DrillsPanel() override;

  // Loads the drills of `dir` (default: the built-in ones); a refused file is listed with its error.
  void loadDrills(const QString& dir = {});
  void setSession(core::ClusterSession* session, const drill::DrillRunner::Options& options);

  int drillCount() const;
  bool select(const QString& id);
  QString description() const;  // the text shown for the selected drill
  drill::DrillRunner* runner() const { return m_runner.get(); }
  bool saveReport(const QString& path);  // .html or .pdf, from the last finished run
  QString verdictText() const;
  void setPredictFirst(bool on);

  // The "predict first" dialog for `d` (one number per prediction, objectName "predict-<id>"),
  // and the numbers entered in it.
  static QDialog* predictionDialog(const drill::Drill& d, QWidget* parent);
  static QHash<QString, double> predictionsFrom(const QDialog* dialog);

 public Q_SLOTS:
  void run();
  void abort();

 Q_SIGNALS:
  void message(const QString& text);

 private:
  void showSelected();
  void filter();
  void buildTimeline(const drill::Drill& d);
  void updateStep(int index);
  void updateExpectation(int index);
  void onFinished(const drill::DrillResult& result);
  void updateButtons();
  void start(const drill::Drill& d, const QHash<QString, double>& predictions);
  const drill::Drill* selected() const;

  struct Entry {
    drill::Drill drill;
    QString error;  // set when the file was refused
  };
  QList<Entry> m_drills;
  QPointer<core::ClusterSession> m_session;
  std::unique_ptr<drill::DrillRunner> m_runner;
  std::optional<drill::DrillResult> m_last;

  QComboBox* m_question = nullptr;
  QListWidget* m_list = nullptr;
  QTextBrowser* m_text = nullptr;
  QPushButton* m_run = nullptr;
  QCheckBox* m_predictFirst = nullptr;
  QPushButton* m_abort = nullptr;
  QPushButton* m_save = nullptr;
  QLabel* m_verdict = nullptr;
  QTreeWidget* m_timeline = nullptr;
  QTreeWidgetItem* m_steps = nullptr;
  QTreeWidgetItem* m_expectations = nullptr;
  QTreeWidgetItem* m_predictions = nullptr;
};

}  // namespace mambogo::gui
